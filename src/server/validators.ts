import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import type { FastifySchema, FastifySchemaCompiler } from 'fastify';

// ajv-formats ships CommonJS; its default export is the plugin function.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const isRfc3339DateTime = (fullFormats['date-time'] as { validate: (s: string) => boolean }).validate;

/**
 * RFC 3339 allows second 60 (leap seconds) and ajv-formats accepts it, but `Date` cannot hold it
 * (`new Date('2030-06-30T23:59:60Z').toISOString()` throws): accept only instants `Date` can represent.
 */
function isStorableDateTime(value: string): boolean {
  return isRfc3339DateTime(value) && !Number.isNaN(Date.parse(value));
}

function createAjv(coerceTypes: boolean | 'array'): Ajv {
  // removeAdditional stays off: an unknown field must be refused (Auth0 answers invalid_body), not dropped.
  const ajv = new Ajv({
    coerceTypes,
    useDefaults: true,
    allErrors: false,
    removeAdditional: false,
    strict: false,
  });
  addFormats(ajv);
  ajv.addFormat('date-time', { type: 'string', validate: isStorableDateTime });
  return ajv;
}

/**
 * Bodies are validated without coercion so strings are stored exactly as sent; query strings and path
 * parameters arrive as text and are coerced (`?page=2`, repeated keys as arrays).
 */
export function createValidatorCompiler(): FastifySchemaCompiler<FastifySchema> {
  const strict = createAjv(false);
  const coercing = createAjv('array');
  const cache = new WeakMap<object, ValidateFunction>();
  return ({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? strict : coercing;
    const key = schema as object;
    let validate = httpPart === 'body' ? undefined : cache.get(key);
    if (!validate) {
      validate = ajv.compile(schema as object);
      if (httpPart !== 'body') cache.set(key, validate);
    }
    const fn = validate;
    return (data: unknown) =>
      fn(data)
        ? { value: data }
        : { error: Object.assign(new Error('validation'), { validation: fn.errors }) };
  };
}
