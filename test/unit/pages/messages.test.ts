import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { message, messageAround } from '../../../src/pages/messages.js';
import { passwordRules, ruleSentence } from '../../../src/pages/password-rules.js';

const VIEWS = fileURLToPath(new URL('../../../src/pages/views/', import.meta.url));

/** Attributes a person reads or hears (screen readers announce aria-label, alt, title). */
const READ_ATTRIBUTES =
  /\b(aria-label|aria-description|aria-roledescription|alt|title|placeholder|value)\s*=\s*"([^"]*)"/g;

/**
 * The words a view writes itself instead of taking from the catalogue: the text between tags and the values
 * of read-out attributes, once Eta tags, <style>/<script> bodies, comments and entities are taken out.
 */
function literalText(source: string): string[] {
  const found: string[] = [];
  // Strings in the templates' own code: view paths are not words; markup built in code is checked as markup.
  for (const [tag] of source.matchAll(/<%[\s\S]*?%>/g)) {
    for (const [quoted, body] of tag.matchAll(/'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"/g)) {
      const text = body ?? quoted.slice(1, -1);
      if (text.startsWith('./')) continue;
      if (text.trimStart().startsWith('<')) found.push(...literalText(text));
      else if (/\p{L}/u.test(text)) found.push(quoted);
    }
  }
  const bare = source
    .replace(/<%[\s\S]*?%>/g, '')
    .replace(/<style\b[^>]*>[\s\S]*?<\/style>/gi, '')
    .replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, '')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<!doctype[^>]*>/gi, '')
    .replace(/&#?\w+;/g, ' ');
  for (const [, between] of bare.matchAll(/>([^<]*)</g)) {
    if (between !== undefined && /\p{L}/u.test(between)) found.push(between.trim());
  }
  for (const tag of bare.matchAll(/<[a-z][^>]*>/gi)) {
    for (const [, name, value] of tag[0].matchAll(READ_ATTRIBUTES)) {
      // Hidden inputs carry data for the server, not words for a person.
      if (name === 'value' && /type="hidden"/.test(tag[0])) continue;
      if (value !== undefined && /\p{L}/u.test(value)) found.push(`${name}="${value}"`);
    }
  }
  return found;
}

describe('the message catalogue', () => {
  const views = readdirSync(VIEWS).filter((name) => name.endsWith('.eta'));

  it('finds the views', () => {
    expect(views).toContain('layout.eta');
    expect(views).toContain('reset-password.eta');
  });

  it.each(views)('%s writes no words of its own: every one comes from src/pages/messages.ts', (name) => {
    expect(literalText(readFileSync(`${VIEWS}${name}`, 'utf8'))).toEqual([]);
  });

  it('the check catches a literal word in a text node or a read-out attribute', () => {
    expect(literalText('<p>Running</p>')).toEqual(['Running']);
    expect(literalText('<span class="pill">Version <%= it.product.version %></span>')).toEqual(['Version']);
    expect(literalText('<p><% if (it.x) { %>Choose<% } %></p>')).toEqual(['Choose']);
    expect(literalText('<ul class="rules" aria-label="Password rules">')).toEqual([
      'aria-label="Password rules"',
    ]);
    expect(literalText('<img src="<%= it.src %>" alt="Logo">')).toEqual(['alt="Logo"']);
    expect(literalText('<button type="submit" value="Go">')).toEqual(['value="Go"']);
    expect(
      literalText("<% layout('./layout', { title: 'Reset your password · ' + it.tenantName }) %>"),
    ).toEqual(["'Reset your password · '"]);
    expect(literalText(`<% const icon = '<svg aria-label="Done"></svg>' %>`)).toEqual(['aria-label="Done"']);
  });

  it('the check lets through Eta output, markup, styles, scripts and hidden data', () => {
    expect(
      literalText(
        [
          '<p class="lede"><%= it.t.lede %></p>',
          '<style nonce="<%= it.nonce %>">.a { content: "x"; }</style>',
          '<script nonce="<%= it.nonce %>">var message = 1;</script>',
          '<input type="hidden" name="action" value="accept">',
          '<span aria-hidden="true">&rarr;</span>',
          '<ul class="rules" aria-label="<%= it.t.rulesLabel %>"></ul>',
          "<% layout('./layout', { title: it.t.title + ' · ' + it.tenantName }) %>",
          `<% const check = '<svg width="18" aria-hidden="true"><path d="M6 10.4"/></svg>' %>`,
        ].join('\n'),
      ),
    ).toEqual([]);
  });

  it('fills placeholders and leaves unknown ones as they are', () => {
    expect(message('layout.version', { version: '1.2.3' })).toBe('Version 1.2.3');
    expect(message('rules.history', {})).toBe('It must differ from your last {count} passwords.');
    expect(message('login.subtitle', { tenant: 'Acme', client: 'Shop' })).toBe(
      'Log in to Acme to continue to Shop.',
    );
    expect(message('login.subtitle', { client: 'Shop' })).toBe('Log in to {tenant} to continue to Shop.');
    expect(message('login.title')).toBe('Welcome');
  });

  it('cuts a message around a placeholder the view marks up', () => {
    expect(messageAround('reset.subtitle', 'email')).toEqual({
      before: 'Choose a new password for ',
      after: '.',
    });
    expect(messageAround('reset.title', 'email')).toEqual({ before: 'Reset your password', after: '' });
  });

  it('words the password rules as before', () => {
    expect(ruleSentence('at least 12 characters in length')).toBe(
      'It must be at least 12 characters in length.',
    );
    expect(ruleSentence('no more than 2 identical characters in a row')).toBe(
      'It must have no more than 2 identical characters in a row.',
    );
    expect(
      passwordRules({
        password_dictionary: { enable: true },
        password_no_personal_info: { enable: true },
        password_history: { enable: true, size: 5 },
      }).slice(-3),
    ).toEqual([
      'It must not be a commonly used password.',
      'It must not contain your name or email address.',
      'It must differ from your last 5 passwords.',
    ]);
  });
});
