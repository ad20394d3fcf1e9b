/**
 * The test split, sealed. Nothing that trains, tunes, selects λ or early-stops can see its rows: they
 * live behind a TestSplit handle, and testPredictions() is the one function that reads them — once per
 * key (an arm and a seed, after that arm's selection is complete; a second read of the same key is
 * refused). test/c2al/test-split.test.ts checks that no other module touches the sealed rows.
 */
import type { ClickData } from '../data/schema.js';
import type { DhenModel } from '../nn/dhen.js';
import { TensorError } from '../tensor.js';
import { predict } from '../train/loop.js';

const sealed = new WeakMap<TestSplit, ClickData>();

export class TestSplit {
  /** Keys of the reads so far, in order. */
  readonly reads: string[] = [];
  readonly rows: number;
  readonly cohortNames: readonly string[];
  private constructor(data: ClickData) {
    this.rows = data.rows;
    this.cohortNames = [...data.cohortNames];
  }

  /** Seals `data` as a test split. */
  static seal(data: ClickData): TestSplit {
    const split = new TestSplit(data);
    sealed.set(split, data);
    return split;
  }
}

/** What one read gives: the model's predictions, and the rows' labels, cohorts and (synthetic data) true probabilities. */
export interface TestRead {
  pred: Float64Array;
  labels: Uint8Array;
  cohort: Uint8Array;
  trueProb?: Float64Array;
}

/** The model's primary-head predictions on the test rows. `key` names the arm and seed; each key reads once. */
export async function testPredictions(model: DhenModel, split: TestSplit, key: string): Promise<TestRead> {
  const data = sealed.get(split);
  if (!data) throw new TensorError('testPredictions: not a sealed test split');
  if (split.reads.includes(key)) throw new TensorError(`testPredictions: the test split was already read for ${key} (each arm and seed reads ` +
    `it once, after selection)`);
  split.reads.push(key);
  return { pred: await predict(model, data), labels: data.labels, cohort: data.cohort, ...(data.trueProb ? { trueProb: data.trueProb } : {}) };
}
