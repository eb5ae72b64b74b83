import { Type, type Static, type TSchema, type TUnsafe } from 'typebox';

interface KeyRules {
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
}

/**
 * A JSON object with free keys whose values all follow `value`. Not `Type.Record`: its `^.*$` key pattern
 * does not match a key holding a line break, so validation skipped that key's value and the response
 * serializer silently dropped the key. `additionalProperties` covers every key.
 */
export function FreeKeyMap<T extends TSchema>(
  value: T,
  options: { readonly maxProperties?: number; readonly keys?: KeyRules } = {},
): TUnsafe<Record<string, Static<T>>> {
  const { maxProperties, keys } = options;
  return Type.Unsafe<Record<string, Static<T>>>({
    type: 'object',
    additionalProperties: value,
    ...(maxProperties !== undefined ? { maxProperties } : {}),
    ...(keys !== undefined ? { propertyNames: { type: 'string', ...keys } } : {}),
  });
}
