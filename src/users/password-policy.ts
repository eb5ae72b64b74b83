import { checkPassword } from './passwords.js';

export type PasswordPolicy = 'none' | 'low' | 'fair' | 'good' | 'excellent';

interface Rule {
  readonly minLength: number;
  /** How many of the character classes (lower, upper, digit, special) are required. */
  readonly classes: 0 | 3 | 4;
  /** Which classes count; `fair` counts only lower, upper and digits. */
  readonly pool: readonly ('lower' | 'upper' | 'digit' | 'special')[];
  readonly maxRepeats: number | undefined;
}

// Auth0's documented policy levels.
const RULES: Record<PasswordPolicy, Rule> = {
  none: { minLength: 1, classes: 0, pool: [], maxRepeats: undefined },
  low: { minLength: 6, classes: 0, pool: [], maxRepeats: undefined },
  fair: { minLength: 8, classes: 3, pool: ['lower', 'upper', 'digit'], maxRepeats: undefined },
  good: { minLength: 8, classes: 3, pool: ['lower', 'upper', 'digit', 'special'], maxRepeats: undefined },
  excellent: { minLength: 10, classes: 3, pool: ['lower', 'upper', 'digit', 'special'], maxRepeats: 2 },
};

const TESTS = {
  lower: /\p{Ll}/u,
  upper: /\p{Lu}/u,
  digit: /\p{Nd}/u,
  special: /[^\p{L}\p{Nd}]/u,
} as const;

const NAMES = {
  lower: 'lower case letters (a-z)',
  upper: 'upper case letters (A-Z)',
  digit: 'numbers (0-9)',
  special: 'special characters (e.g. !@#$%^&*)',
};

/**
 * Checks a password against a connection's policy.
 * @returns the reasons it fails, in words a user can act on; empty when it passes.
 */
export function passwordProblems(
  password: string,
  policy: PasswordPolicy,
  minLengthOverride?: number,
): string[] {
  const rule = RULES[policy];
  const problems: string[] = [];
  const minLength = minLengthOverride ?? rule.minLength;
  // Count code points, not UTF-16 units, so an emoji is one character.
  if (Array.from(password).length < minLength) problems.push(`at least ${minLength} characters in length`);
  if (rule.classes > 0) {
    const present = rule.pool.filter((c) => TESTS[c].test(password));
    if (present.length < Math.min(rule.classes, rule.pool.length)) {
      const missing = rule.pool.filter((c) => !present.includes(c)).map((c) => NAMES[c]);
      problems.push(
        rule.pool.length === 3
          ? `contain ${rule.pool.map((c) => NAMES[c]).join(', ')} (missing: ${missing.join(', ')})`
          : `contain at least 3 of the following 4 types of characters: ${rule.pool.map((c) => NAMES[c]).join(', ')}`,
      );
    }
  }
  if (rule.maxRepeats !== undefined && new RegExp(`(.)\\1{${rule.maxRepeats},}`, 'u').test(password)) {
    problems.push(`no more than ${rule.maxRepeats} identical characters in a row`);
  }
  return problems;
}

function isPasswordPolicy(value: unknown): value is PasswordPolicy {
  return typeof value === 'string' && value in RULES;
}

export type PasswordErrorName =
  'PasswordStrengthError' | 'PasswordDictionaryError' | 'PasswordNoUserInfoError' | 'PasswordHistoryError';

// Auth0's texts (the Management API answers `${name}: ${message}`).
const MESSAGES: Record<PasswordErrorName, string> = {
  PasswordStrengthError: 'Password is too weak',
  PasswordDictionaryError: 'Password is too common',
  PasswordNoUserInfoError: 'Password contains user information',
  PasswordHistoryError: 'Password has previously been used',
};

/** Why a new password is refused, in Auth0's terms. */
export interface PasswordRejection {
  readonly name: PasswordErrorName;
  readonly message: string;
  /** What the password misses, in words a user can act on (strength only; empty otherwise). */
  readonly rules: readonly string[];
}

/** Auth0's database-connection password options, read from `connection.options` (invalid shapes are ignored). */
export interface PasswordOptions {
  readonly policy: PasswordPolicy;
  readonly minLength: number | undefined;
  /** Custom words refused besides the common-password list; undefined when password_dictionary is off. */
  readonly dictionary: readonly string[] | undefined;
  readonly noPersonalInfo: boolean;
  /** How many of the user's latest passwords, the current one included, may not be set again; 0 when off. */
  readonly historySize: number;
}

/** Auth0's default when password_history is on without a size. */
const DEFAULT_HISTORY_SIZE = 5;

export function passwordOptionsOf(options: Readonly<Record<string, unknown>>): PasswordOptions {
  const policy = options['passwordPolicy'];
  const complexity = record(options['password_complexity_options']);
  const minLength = complexity?.['min_length'];
  const dictionary = record(options['password_dictionary']);
  const history = record(options['password_history']);
  const size = history?.['size'];
  return {
    policy: isPasswordPolicy(policy) ? policy : 'none',
    minLength: typeof minLength === 'number' ? minLength : undefined,
    dictionary:
      dictionary?.['enable'] === true
        ? (Array.isArray(dictionary['dictionary']) ? dictionary['dictionary'] : []).filter(
            (w): w is string => typeof w === 'string',
          )
        : undefined,
    noPersonalInfo: record(options['password_no_personal_info'])?.['enable'] === true,
    historySize: history?.['enable'] === true ? (typeof size === 'number' ? size : DEFAULT_HISTORY_SIZE) : 0,
  };
}

/** Whose password it is: the profile the personal-data option compares against. */
export interface PasswordOwner {
  readonly email?: string | undefined;
  readonly username?: string | undefined;
  readonly name?: string | undefined;
  readonly nickname?: string | undefined;
  readonly givenName?: string | undefined;
  readonly familyName?: string | undefined;
  readonly userMetadata?: Readonly<Record<string, unknown>> | undefined;
}

export interface NewPassword {
  readonly password: string;
  /** The database connection's `options`. */
  readonly options: Readonly<Record<string, unknown>>;
  readonly owner: PasswordOwner;
  /**
   * The hashes of the owner's latest `count` passwords, the current one first; asked only when password
   * history is on (a new user has none).
   */
  readonly latestHashes?: (count: number) => Promise<readonly string[]>;
}

/**
 * Checks a password a user is about to get (creation, password change, sign-up) against the connection's
 * options, in Auth0's order: strength, dictionary, personal data, history.
 * @returns the first rule it breaks, or undefined when it may be set.
 */
export async function checkNewPassword(input: NewPassword): Promise<PasswordRejection | undefined> {
  const options = passwordOptionsOf(input.options);
  const { password } = input;
  const rules = passwordProblems(password, options.policy, options.minLength);
  if (rules.length > 0) return rejection('PasswordStrengthError', rules);
  if (options.dictionary !== undefined && (await isInDictionary(password, options.dictionary))) {
    return rejection('PasswordDictionaryError');
  }
  if (options.noPersonalInfo && containsPersonalInfo(password, input.owner)) {
    return rejection('PasswordNoUserInfoError');
  }
  if (options.historySize > 0 && input.latestHashes) {
    const hashes = await input.latestHashes(options.historySize);
    const checks = await Promise.all(hashes.map((hash) => checkPassword(password, hash)));
    if (checks.some((c) => c.ok)) return rejection('PasswordHistoryError');
  }
  return undefined;
}

function rejection(name: PasswordErrorName, rules: readonly string[] = []): PasswordRejection {
  return { name, message: MESSAGES[name], rules };
}

let commonPasswords: Promise<ReadonlySet<string>> | undefined;

/** Auth0 compares the whole password with each entry, case-insensitively. */
async function isInDictionary(password: string, custom: readonly string[]): Promise<boolean> {
  const lower = password.toLowerCase();
  if (custom.some((word) => word.toLowerCase() === lower)) return true;
  // 49,233 common passwords, lowercase, loaded at the first check (~40 ms).
  commonPasswords ??= import('@zxcvbn-ts/language-common').then(
    ({ dictionary }) => new Set(dictionary['passwords-common']),
  );
  return (await commonPasswords).has(lower);
}

/** Shorter fragments (initials, "li") would forbid too many passwords to be useful. */
const MIN_PERSONAL_FRAGMENT = 3;

/**
 * Auth0 refuses a password containing the user's name, username, nickname, user_metadata name, first or last,
 * or the part of the email before the @. Names also count word by word ("Jane Doe": jane, doe).
 */
function containsPersonalInfo(password: string, owner: PasswordOwner): boolean {
  const meta = owner.userMetadata ?? {};
  const names = [owner.name, owner.givenName, owner.familyName, meta['name'], meta['first'], meta['last']];
  const fragments = [owner.email, owner.username, owner.nickname].map(localPart);
  for (const name of names) {
    if (typeof name !== 'string') continue;
    if (name.includes('@')) {
      fragments.push(localPart(name));
      continue;
    }
    fragments.push(name, ...name.split(/[^\p{L}\p{N}]+/u));
  }
  const lower = password.toLowerCase();
  return fragments.some(
    (f) =>
      f !== undefined && Array.from(f).length >= MIN_PERSONAL_FRAGMENT && lower.includes(f.toLowerCase()),
  );
}

function localPart(value: string | undefined): string | undefined {
  return value?.split('@')[0];
}

function record(value: unknown): Readonly<Record<string, unknown>> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
