// The components of the OpenAPI document: every response shape is a named schema from packages/contracts
// (registered with `.meta({ id })`). fastify-type-provider-zod emits an input and an output variant of
// each; only those an operation refers to, directly or through another schema, are kept.
import type { SwaggerTransformObject } from '@fastify/swagger';
import { jsonSchemaTransformObject } from 'fastify-type-provider-zod';

const REF = /"#\/components\/schemas\/([^"]+)"/g;

export const componentsInUse: SwaggerTransformObject = (input) => {
  const doc = jsonSchemaTransformObject(input) as { paths?: unknown; components?: { schemas?: Record<string, unknown> } };
  const all = doc.components?.schemas ?? {};
  const used = new Set<string>();
  const visit = (node: unknown) => {
    for (const [, name] of JSON.stringify(node ?? null).matchAll(REF)) {
      if (used.has(name!) || !(name! in all)) continue;
      used.add(name!);
      visit(all[name!]);
    }
  };
  visit(doc.paths);
  return { ...doc, components: { ...doc.components, schemas: Object.fromEntries(Object.entries(all).filter(([name]) => used.has(name))) } } as ReturnType<SwaggerTransformObject>;
};
