/**
 * The explanation in an explainer's OIP answer: MLServer's alibi-explain runtime answers with one
 * BYTES output `explanation` whose string is alibi's Explanation JSON (`meta`, `data`). Read by the
 * harness's criteria and by the audit gateway.
 */
import { z } from 'zod';

/** alibi's Explanation, the fields the criteria read. */
const explanationSchema = z.object({
  meta: z.looseObject({ name: z.string() }),
  data: z.looseObject({
    shap_values: z.array(z.array(z.array(z.number()))),
    expected_value: z.array(z.number()),
    feature_names: z.array(z.string()),
  }),
});
export type Explanation = z.infer<typeof explanationSchema>;

/** The explanation in an explainer's OIP answer; the error says what is missing. */
export function parseExplanation(body: unknown): Explanation {
  const output = (body as { outputs?: { name: string; datatype: string; data: unknown[] }[] } | undefined)?.outputs?.find((o) => o.name === 'explanation');
  if (!output) throw new Error(`the answer has no output 'explanation': ${JSON.stringify(body).slice(0, 200)}`);
  if (output.datatype !== 'BYTES' || typeof output.data[0] !== 'string') throw new Error(`output 'explanation' must be one BYTES string, got ${output.datatype}`);
  const parsed = explanationSchema.safeParse(JSON.parse(output.data[0]));
  if (!parsed.success) throw new Error(`the explanation is not alibi's shape: field '${parsed.error.issues[0].path.join('.')}': ${parsed.error.issues[0].message}`);
  return parsed.data;
}

