export function toJson(value: unknown): string {
  return JSON.stringify(value);
}

// The caller names the type it stored; JSON columns are written only by the repository that reads them.
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
export function fromJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

export const toBool = (n: number | null): boolean => n === 1;
export const fromBool = (b: boolean): number => (b ? 1 : 0);

/** True when a driver error is a unique-constraint violation on either engine. */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
