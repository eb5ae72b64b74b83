import { describe, expect, it } from 'vitest';
import {
  checkNewPassword,
  passwordOptionsOf,
  passwordProblems,
  type PasswordOwner,
} from '../../../src/users/password-policy.js';
import { hashPassword } from '../../../src/users/passwords.js';

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

/** The README's recommended configuration (OWASP ASVS 4.0 level 2), as a fresh tenant's default directory has it. */
const RECOMMENDED = {
  passwordPolicy: 'low',
  password_complexity_options: { min_length: 12 },
  password_dictionary: { enable: true, dictionary: [] },
  password_no_personal_info: { enable: true },
};
const JANE = {
  email: 'jane.doe@example.com',
  name: 'Jane Doe',
  nickname: 'jd',
  userMetadata: { first: 'Janet' },
};
const check = (password: string, options: Record<string, unknown>, owner: PasswordOwner = JANE) =>
  checkNewPassword({ password, options, owner });
const rejected = (name: string, message: string) => ({ name, message, rules: [] });

describe('checkNewPassword (Auth0 password options)', () => {
  it('refuses Passw0rd and accepts a long passphrase under the recommended configuration', async () => {
    expect(await check('Passw0rd', RECOMMENDED)).toEqual({
      name: 'PasswordStrengthError',
      message: 'Password is too weak',
      rules: ['at least 12 characters in length'],
    });
    expect(await check('correct horse battery staple', RECOMMENDED)).toBeUndefined();
  });

  it('with the Auth0 default of API-created connections (good) does the opposite', async () => {
    const good = { passwordPolicy: 'good' };
    expect(await check('Passw0rd', good)).toBeUndefined();
    expect(await check('correct horse battery staple', good)).toMatchObject({
      name: 'PasswordStrengthError',
    });
  });

  it.each([
    ['qwerty123456', 'common passwords'],
    ['QWERTY123456', 'compared case-insensitively'],
    ['Hunter2Hunter2', 'custom words'],
  ])('refuses %s (%s) when password_dictionary is on', async (password) => {
    const options = { ...RECOMMENDED, password_dictionary: { enable: true, dictionary: ['hunter2hunter2'] } };
    expect(await check(password, options)).toEqual(
      rejected('PasswordDictionaryError', 'Password is too common'),
    );
    expect(await check(password, { ...options, password_dictionary: { enable: false } })).toBeUndefined();
  });

  it.each([
    ['jane.doe-is-here', 'the email before the @'],
    ['i-am-jane-today', 'a part of the name'],
    ['my-name-is-DOE!!', 'another part, in any case'],
    ['janet-on-holiday', 'user_metadata.first'],
  ])('refuses %s (%s) when password_no_personal_info is on', async (password) => {
    expect(await check(password, RECOMMENDED)).toEqual(
      rejected('PasswordNoUserInfoError', 'Password contains user information'),
    );
    expect(
      await check(password, { ...RECOMMENDED, password_no_personal_info: { enable: false } }),
    ).toBeUndefined();
  });

  it('ignores personal fragments shorter than 3 characters and takes only the local part of an emailed name', async () => {
    // "jd" (the nickname) and "example" (the email's domain) do not count.
    expect(await check('jd-example-horse-battery', RECOMMENDED)).toBeUndefined();
    const owner = { email: 'x@example.com', name: 'someone@example.com' };
    expect(await check('example-horse-battery', RECOMMENDED, owner)).toBeUndefined();
    expect(await check('someone-horse-battery', RECOMMENDED, owner)).toMatchObject({
      name: 'PasswordNoUserInfoError',
    });
  });

  it('refuses any of the latest passwords, the current one included, when password_history is on', async () => {
    const old = await hashPassword('first horse battery');
    const current = await hashPassword('second horse battery');
    const asked: number[] = [];
    const latestHashes = async (count: number) => {
      asked.push(count);
      return [current, old];
    };
    const options = { ...RECOMMENDED, password_history: { enable: true, size: 3 } };
    for (const password of ['first horse battery', 'second horse battery']) {
      expect(await checkNewPassword({ password, options, owner: {}, latestHashes })).toEqual(
        rejected('PasswordHistoryError', 'Password has previously been used'),
      );
    }
    expect(
      await checkNewPassword({ password: 'third horse battery', options, owner: {}, latestHashes }),
    ).toBeUndefined();
    expect(asked).toEqual([3, 3, 3]);
  });

  it('reads the options as Auth0 stores them; password_history defaults to 5 passwords', () => {
    expect(passwordOptionsOf({ password_history: { enable: true } }).historySize).toBe(5);
    expect(passwordOptionsOf({ password_history: { enable: false, size: 9 } }).historySize).toBe(0);
    expect(passwordOptionsOf(RECOMMENDED)).toEqual({
      policy: 'low',
      minLength: 12,
      dictionary: [],
      noPersonalInfo: true,
      historySize: 0,
    });
    expect(passwordOptionsOf({ passwordPolicy: null, password_dictionary: 'yes' })).toEqual({
      policy: 'none',
      minLength: undefined,
      dictionary: undefined,
      noPersonalInfo: false,
      historySize: 0,
    });
  });
});
