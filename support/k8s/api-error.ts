/**
 * What a Kubernetes API call that failed says, briefly: `HTTP <code>: <the API server's message>`
 * for an API error (its Status body), the first line of any other error.
 */
import { ApiException } from '@kubernetes/client-node';

export function apiErrorMessage(error: unknown): string {
  if (!(error instanceof ApiException)) return (error as Error).message.split('\n')[0];
  const body: unknown = error.body;
  let text = typeof body === 'string' ? body : (body as { message?: string } | undefined)?.message ?? '';
  try {
    text = (JSON.parse(text) as { message?: string }).message ?? text;
  } catch {
    // not JSON: the text as it came
  }
  return `HTTP ${error.code}: ${text.slice(0, 300)}`;
}
