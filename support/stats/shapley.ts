/**
 * Exact Shapley values by enumeration: the harness's ground truth for the explainer's KernelSHAP.
 *
 * phi_i = sum over coalitions S without i of |S|! (n - |S| - 1)! / n! * (v(S + i) - v(S)).
 *
 * The value function the explainer estimates is interventional: v(S) is the model's mean output
 * with the features in S taken from the instance and the others from each background row. A
 * feature the model does not use is a null player (its Shapley value is 0), so the enumeration
 * runs over the features the model uses only: 2^k coalitions for k used features.
 */

/** Exact Shapley values of an n-player game given v over all 2^n coalitions (bit i of the index = player i). */
export function shapleyFromValues(values: ArrayLike<number>, n: number): number[] {
  if (values.length !== 2 ** n) throw new Error(`a game of ${n} players needs ${2 ** n} coalition values, got ${values.length}`);
  const factorial = [1];
  for (let i = 1; i <= n; i++) factorial[i] = factorial[i - 1] * i;
  const weight = Array.from({ length: n }, (_, s) => (factorial[s] * factorial[n - s - 1]) / factorial[n]);
  const phi = new Array<number>(n).fill(0);
  for (let coalition = 0; coalition < values.length; coalition++) {
    let size = 0;
    for (let i = 0; i < n; i++) if (coalition & (1 << i)) size++;
    for (let i = 0; i < n; i++) {
      if (coalition & (1 << i)) continue;
      phi[i] += weight[size] * (values[coalition | (1 << i)] - values[coalition]);
    }
  }
  return phi;
}

/**
 * The rows whose model outputs give the interventional value of every coalition of `players`
 * (feature indices): for coalition c (bit i = players[i] from the instance) and background row b,
 * row c * B + b.
 */
export function coalitionRows(x: number[], background: number[][], players: number[]): number[][] {
  if (players.length > 20) throw new Error(`exact Shapley values over ${players.length} features need 2^${players.length} coalitions; enumerate at most 20`);
  const rows: number[][] = [];
  for (let coalition = 0; coalition < 2 ** players.length; coalition++) {
    for (const b of background) {
      const row = b.slice();
      players.forEach((feature, i) => {
        if (coalition & (1 << i)) row[feature] = x[feature];
      });
      rows.push(row);
    }
  }
  return rows;
}

/**
 * Exact interventional Shapley values of one model output for instance `x`, from the outputs of
 * `coalitionRows(x, background, players)`; features outside `players` get 0.
 */
export function exactShapley(outputs: number[], background: number[][], backgroundWeights: number[], players: number[], width: number): { phi: number[]; baseValue: number; fullValue: number } {
  const total = backgroundWeights.reduce((a, b) => a + b, 0);
  const values = new Float64Array(2 ** players.length);
  for (let c = 0; c < values.length; c++) {
    let v = 0;
    background.forEach((_, b) => (v += (outputs[c * background.length + b] * backgroundWeights[b]) / total));
    values[c] = v;
  }
  const phi = new Array<number>(width).fill(0);
  shapleyFromValues(values, players.length).forEach((value, i) => (phi[players[i]] = value));
  return { phi, baseValue: values[0], fullValue: values[values.length - 1] };
}
