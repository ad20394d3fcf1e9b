/**
 * The public surface: what `c2al` and `c2al/testing` export, by name. A rename or removal must show here
 * (and in the README); additions are listed too, so the surface never changes by accident.
 */
import { expect, test } from 'vitest';
import * as c2al from '../../src/index.js';
import * as testing from '../../src/testing/index.js';

const C2AL = `
  ARM_KINDS Adam AdamW BINNINGS BackendError CaptureError CapturedStep CheckpointError CpuBackend CrossNet
  DEFAULT_HYPER DEFAULT_PLAN DataError DeviceLostError DhenLayer DhenModel DotInteraction EmbeddingBag
  Embeddings EmbeddingsFeed FM_FUSED_MAX_T FieldAttention FiniteGuard FmAttention GpuProfiler LayerNorm Linear
  LinearCompress LookupFeed METRICS MLP MOVIELENS_AXES Module NEAR_ZERO NoAdapterError NonFiniteError Optimizer
  PLANTED_FIELDS PLANTED_MECHANISMS PLANTED_MOST_DIFFERENT PROTOCOLS REPORT_PLOTS RowSparse RowWiseAdagrad SGD
  ShaderCompileError ShapeError Tensor TensorError TestSplit WORLDS WebGpuBackend abs adagradRowsUpdate
  adamUpdate add addScalar armsFor attentionSnapshot attentionStats attentionWeights barChart bayesNE
  bceWithLogits benchModelConfig benchmarkOp binPositions bonferroniLevel c2alLoss cast chromeTrace clipGradNorm
  cohortGroupField cohortMetrics cohortsByField concat crc32 decodeSafetensors densifyRows discover div
  divergences embeddingBag embeddingLookup encodeModule encodeOptimizerState encodeSafetensors epochOrder equal
  evaluate exp expand f32Bits fieldValues fmInteraction fmWeights formatProfile full gelu getBackend gradcheck
  gradcheckCases gradcheckOps gradcheckTolerance greater groupFields headLabels headNames heatMap histogram idleWait init
  initTensor initValues keep kernelBytes kernelFlops kernelPlan kernels layerNorm layerWeights learningRate
  linear lineChart liveTensors loadCheckpoint loadCsv loadMovieLens loadTrainState log log1p matmul max maximum mean
  meanStd median metrics minimum modelConfig mul mulScalar mulberry32 neg noGrad ones onesLike ops
  pairedBootstrap pairedTInterval parseCsv parseMovieLens percentileInterval permute permutedCohorts powScalar
  predict profileTraining progressLine progressReporter randomNormal randomUniform readCheckpointFile registerOp
  relu renderReport requestGpuDevice reshape restore restoreOptimizerState runExperiment saveCheckpoint
  saveTrainState scope selectCohorts setBackend setDebug sgdUpdate sigmoid silu slice snapshot softmax splitRows
  sqrt stepCount stepsPerEpoch studentTCdf studentTQuantile sub subset sum sumTo summarizeProfile
  syntheticClicks tanh tensor testPredictions trainModel trainStep transpose validateClickData validateConfig
  validateSchema where withOp withPhase writeFileAtomic zeros
`.trim().split(/\s+/);

test('c2al exports exactly the documented names', () => {
  expect(Object.keys(c2al).sort()).toEqual([...C2AL].sort());
});

test('c2al/testing exports the matchers', () => {
  expect(Object.keys(testing).sort()).toEqual(['matchers']);
  expect(Object.keys(testing.matchers).sort()).toEqual(['toMatchReference', 'toPassGradcheck']);
});
