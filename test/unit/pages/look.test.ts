import { describe, expect, it } from 'vitest';
import { imageOrigins, pageLookOf, readableOn } from '../../../src/pages/look.js';

describe('the look of the hosted pages', () => {
  it('takes the tenant name and valid branding from the settings', () => {
    expect(
      pageLookOf({
        friendly_name: 'Acme',
        branding: {
          colors: { primary: '#0059d6', page_background: '#FFF' },
          logo_url: 'https://cdn.example.com/logo.png',
          favicon_url: 'https://icons.example.org/f.ico',
        },
      }),
    ).toEqual({
      tenantName: 'Acme',
      primary: '#0059d6',
      background: '#FFF',
      logoUrl: 'https://cdn.example.com/logo.png',
      faviconUrl: 'https://icons.example.org/f.ico',
    });
  });

  it('drops stored values that could break out of CSS, an attribute or the CSP, whatever wrote them', () => {
    expect(
      pageLookOf({
        friendly_name: '  ',
        branding: {
          colors: { primary: 'red;}body{display:none', page_background: '#12' },
          logo_url: "https://cdn.example.com/x' 'unsafe-inline",
          favicon_url: 'http://cdn.example.com/f.ico',
        },
      }),
    ).toEqual({
      tenantName: 'Latchkey',
      primary: undefined,
      background: undefined,
      logoUrl: undefined,
      faviconUrl: undefined,
    });
    expect(pageLookOf({ branding: 'nonsense' }).primary).toBeUndefined();
  });

  it('lists each image origin once', () => {
    const look = pageLookOf({
      branding: { logo_url: 'https://cdn.example.com/a.png', favicon_url: 'https://cdn.example.com/b.ico' },
    });
    expect(imageOrigins(look)).toEqual(['https://cdn.example.com']);
  });

  it('puts white text on dark colours and dark text on light ones', () => {
    expect(readableOn('#0059d6')).toBe('#ffffff');
    expect(readableOn('#000')).toBe('#ffffff');
    expect(readableOn('#ffd700')).toBe('#111827');
    expect(readableOn('#fafafa')).toBe('#111827');
  });
});
