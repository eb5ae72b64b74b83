import { message } from './messages.js';
import { passwordOptionsOf, passwordProblems } from '../users/password-policy.js';

/** The connection's password rules, as the page lists them before the user types. */
export function passwordRules(options: Readonly<Record<string, unknown>>): string[] {
  const parsed = passwordOptionsOf(options);
  // Before anything is typed every class is "missing": the list names the rule alone.
  const rules = passwordProblems('', parsed.policy, parsed.minLength).map((rule) =>
    ruleSentence(rule.replace(/ \(missing: .*\)$/, '')),
  );
  if (parsed.dictionary !== undefined) rules.push(message('rules.dictionary'));
  if (parsed.noPersonalInfo) rules.push(message('rules.personal_info'));
  if (parsed.historySize > 0) rules.push(message('rules.history', { count: String(parsed.historySize) }));
  return rules;
}

/** "at least 12 characters in length" → "It must be at least 12 characters in length." */
export function ruleSentence(rule: string): string {
  return rule.startsWith('contain') || rule.startsWith('no ')
    ? message('rules.must', { rule: rule.replace(/^no /, 'have no ') })
    : message('rules.must_be', { rule });
}
