import { passwordOptionsOf, passwordProblems } from '../users/password-policy.js';

/** The connection's password rules, as the page lists them before the user types. */
export function passwordRules(options: Readonly<Record<string, unknown>>): string[] {
  const parsed = passwordOptionsOf(options);
  // Before anything is typed every class is "missing": the list names the rule alone.
  const rules = passwordProblems('', parsed.policy, parsed.minLength).map((rule) =>
    ruleSentence(rule.replace(/ \(missing: .*\)$/, '')),
  );
  if (parsed.dictionary !== undefined) rules.push('It must not be a commonly used password.');
  if (parsed.noPersonalInfo) rules.push('It must not contain your name or email address.');
  if (parsed.historySize > 0) rules.push(`It must differ from your last ${parsed.historySize} passwords.`);
  return rules;
}

/** "at least 12 characters in length" → "It must be at least 12 characters in length." */
export function ruleSentence(rule: string): string {
  return rule.startsWith('contain') || rule.startsWith('no ')
    ? `It must ${rule.replace(/^no /, 'have no ')}.`
    : `It must be ${rule}.`;
}
