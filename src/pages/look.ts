/**
 * How the hosted pages look for this tenant: its name and the branding set through /api/v2/branding. Every
 * value reaching a page passes the strict checks here, so nothing stored can break out of CSS or an attribute.
 */
export interface PageLook {
  readonly tenantName: string;
  /** `#rgb` or `#rrggbb`. */
  readonly primary: string | undefined;
  readonly background: string | undefined;
  /** An https URL without credentials. */
  readonly logoUrl: string | undefined;
  readonly faviconUrl: string | undefined;
}

/** The only colours accepted: hex, 3 or 6 digits, nothing else can reach a style sheet. */
export const BRAND_COLOUR = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
export const MAX_BRAND_URL = 2048;

/** An https URL that is safe in an attribute and a CSP source; undefined otherwise. */
export function httpsUrl(value: unknown): URL | undefined {
  if (typeof value !== 'string' || value.length > MAX_BRAND_URL) return undefined;
  // Quotes, spaces, semicolons and commas would split a CSP directive or an attribute.
  if (/[\s"'`;,<>\\]/.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.hostname === '')
    return undefined;
  return url;
}

export function brandColour(value: unknown): string | undefined {
  return typeof value === 'string' && BRAND_COLOUR.test(value) ? value : undefined;
}

/** The stored `branding` tenant setting, as Auth0's GET /api/v2/branding shows it. */
export interface Branding {
  colors?: { primary?: string; page_background?: string };
  logo_url?: string;
  favicon_url?: string;
  font?: { url?: string };
}

export const DEFAULT_TENANT_NAME = 'Latchkey';

/** The look from the tenant settings (`friendly_name`, `branding`); anything invalid is left out. */
export function pageLookOf(settings: Readonly<Record<string, unknown>>): PageLook {
  const name = settings['friendly_name'];
  const branding = isRecord(settings['branding']) ? settings['branding'] : {};
  const colors = isRecord(branding['colors']) ? branding['colors'] : {};
  return {
    tenantName: typeof name === 'string' && name.trim() !== '' ? name : DEFAULT_TENANT_NAME,
    primary: brandColour(colors['primary']),
    background: brandColour(colors['page_background']),
    logoUrl: httpsUrl(branding['logo_url'])?.href,
    faviconUrl: httpsUrl(branding['favicon_url'])?.href,
  };
}

export const DEFAULT_LOOK: PageLook = {
  tenantName: DEFAULT_TENANT_NAME,
  primary: undefined,
  background: undefined,
  logoUrl: undefined,
  faviconUrl: undefined,
};

/** The origins the page's images come from (CSP img-src), besides its own. */
export function imageOrigins(look: PageLook): string[] {
  const origins = [look.logoUrl, look.faviconUrl].flatMap((u) =>
    u === undefined ? [] : [new URL(u).origin],
  );
  return [...new Set(origins)];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Black or white text, whichever reads better on `hex` (WCAG relative luminance). */
export function readableOn(hex: string): '#ffffff' | '#111827' {
  const digits = hex.length === 4 ? hex.slice(1).replace(/./g, (d) => d + d) : hex.slice(1);
  const channel = (i: number) => {
    const c = parseInt(digits.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const l = 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4);
  // White text when it contrasts more than near-black (#111827, luminance ≈ 0.0116) would.
  return 1.05 / (l + 0.05) >= (l + 0.05) / 0.0616 ? '#ffffff' : '#111827';
}
