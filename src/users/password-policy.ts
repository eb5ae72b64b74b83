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

export function isPasswordPolicy(value: unknown): value is PasswordPolicy {
  return typeof value === 'string' && value in RULES;
}
