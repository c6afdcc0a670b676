// Type declarations for the untyped libraries the harness and the stack use.

declare module 'ml-logistic-regression' {
  import type { Matrix } from 'ml-matrix';
  export default class LogisticRegression {
    constructor(options?: { numSteps?: number; learningRate?: number });
    classifiers: Array<{ testScores(features: Matrix): number[] }>;
    numberClasses: number;
    train(X: Matrix, Y: Matrix): void;
    predict(X: Matrix): number[];
    toJSON(): Record<string, unknown>;
    static load(model: Record<string, unknown>): LogisticRegression;
  }
}

declare module 'ml-cart' {
  export interface DecisionTreeOptions {
    gainFunction?: 'gini' | 'regression';
    splitFunction?: 'mean';
    minNumSamples?: number;
    maxDepth?: number;
    gainThreshold?: number;
  }
  export class DecisionTreeClassifier {
    constructor(options?: DecisionTreeOptions);
    train(X: number[][], y: number[]): void;
    predict(X: number[][]): number[];
    toJSON(): Record<string, unknown>;
    static load(model: Record<string, unknown>): DecisionTreeClassifier;
  }
}

declare module 'jstat' {
  const jstat: {
    jStat: {
      chisquare: { cdf(x: number, dof: number): number; inv(p: number, dof: number): number };
      normal: { cdf(x: number, mean: number, sd: number): number; inv(p: number, mean: number, sd: number): number; sample(mean: number, sd: number): number };
      beta: { sample(alpha: number, beta: number): number; inv(p: number, alpha: number, beta: number): number };
      binomial: { cdf(k: number, n: number, p: number): number };
      gamma: { sample(shape: number, scale: number): number };
      studentt: { inv(p: number, dof: number): number };
      setRandom(fn: () => number): void;
    };
  };
  export default jstat;
}

declare module 'async-exit-hook' {
  interface ExitHook {
    (hook: (done?: () => void) => void): void;
    unhookEvent(event: string): void;
    hookEvent(event: string, code?: number, filter?: (...args: unknown[]) => boolean): void;
    forceExitTimeout(ms: number): void;
    hookedEvents(): string[];
  }
  const exitHook: ExitHook;
  export default exitHook;
}
