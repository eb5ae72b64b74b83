import { describe, expect, it } from 'vitest';
import { passwordProblems } from '../../../src/users/password-policy.js';

describe('passwordProblems (Auth0 policy levels)', () => {
  it.each([
    ['none', 'x', undefined, []],
    ['low', '12345', undefined, ['at least 6 characters in length']],
    ['low', '123456', undefined, []],
    [
      'fair',
      'abcdefgh',
      undefined,
      [
        'contain lower case letters (a-z), upper case letters (A-Z), numbers (0-9) (missing: upper case letters (A-Z), numbers (0-9))',
      ],
    ],
    ['fair', 'abcdEFG1', undefined, []],
    [
      'good',
      'abcdefg!',
      undefined,
      [
        'contain at least 3 of the following 4 types of characters: lower case letters (a-z), upper case letters (A-Z), numbers (0-9), special characters (e.g. !@#$%^&*)',
      ],
    ],
    ['good', 'abcdefG!', undefined, []],
    ['excellent', 'abcdefG!', undefined, ['at least 10 characters in length']],
    ['excellent', 'aaabcdefG!x', undefined, ['no more than 2 identical characters in a row']],
    ['excellent', 'aabcdefG!xy', undefined, []],
    ['good', 'Ünïcödé1234', undefined, []],
    ['low', 'short', 4, []],
    ['none', 'abc', 12, ['at least 12 characters in length']],
  ] as const)('%s policy on %j (min %s)', (policy, password, min, problems) => {
    expect(passwordProblems(password, policy, min)).toEqual(problems);
  });
});
