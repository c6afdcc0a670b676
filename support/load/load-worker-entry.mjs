// Worker entry: Node 20 does not apply the tsx loader to a worker's entry file, so register it here.
import { register } from 'tsx/esm/api';

register();
await import('./load-worker.ts');
