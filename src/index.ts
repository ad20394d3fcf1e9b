/**
 * Public surface: init() picks a backend; tensors, ops, autograd and memory scopes work the same on
 * every backend. `await init()` uses WebGPU (Dawn in Node, navigator.gpu in browsers).
 */
import { CpuBackend } from './backend/cpu.js';
import type { Backend } from './backend/index.js';
import { WebGpuBackend, type WebGpuOptions } from './backend/webgpu.js';
import { setBackend } from './tensor.js';

export interface InitOptions extends WebGpuOptions {
  backend?: 'webgpu' | 'cpu';
  /** CPU backend precision: 'f64' (the reference, default) or 'f32' (rounds like the GPU). */
  precision?: 'f32' | 'f64';
}

/** Creates a backend, makes it the default for new tensors, and returns it. */
export async function init(opts: InitOptions = {}): Promise<Backend> {
  const backend = opts.backend === 'cpu' ? new CpuBackend(opts.precision ?? 'f64', opts.plan) : await WebGpuBackend.create(opts);
  setBackend(backend);
  return backend;
}

export type { EmbeddingField } from './embedding-plan.js';
export { Tensor, TensorError, RowSparse, noGrad, scope, keep, liveTensors, setDebug, getBackend, setBackend } from './tensor.js';
export { neg, abs, exp, log, log1p, sqrt, sigmoid, tanh, relu, gelu, silu, powScalar, mulScalar, addScalar, add, sub, mul, div, maximum, minimum, equal,
  greater, cast, sum, mean, max, reshape, permute, transpose, slice, concat, expand, where, matmul, linear, bceWithLogits, layerNorm, embeddingLookup,
  embeddingBag, densifyRows, histogram, divergences, fmInteraction, softmax, sumTo, ops, type OpName } from './ops.js';
export { tensor, full, zeros, ones, onesLike, type CreateOptions } from './create.js';
export { ShapeError, type Shape } from './shape.js';
export { adamUpdate, adagradRowsUpdate, sgdUpdate, type AdamOptions, type AdamState } from './updates.js';
export { randomUniform, randomNormal, mulberry32 } from './random.js';
export { gradcheck, gradcheckOps, gradcheckCases, gradcheckTolerance, type GradcheckResult, type GradcheckOptions, type GradcheckReport,
  type GradcheckInput } from './testing/gradcheck.js';
export { registerOp, benchmarkOp, type CustomOp, type CustomKernel, type KernelRunner, type OpBenchmark } from './custom.js';
export { f32Bits } from './kernels.js';
export { CpuBackend } from './backend/cpu.js';
export { WebGpuBackend, ShaderCompileError, DeviceLostError } from './backend/webgpu.js';
export { idleWait } from './backend/idle-wait.js';
export { CapturedStep, CaptureError } from './backend/capture.js';
export { LookupFeed, type LookupBatch } from './embedding-feed.js';
export { requestGpuDevice, NoAdapterError, type GpuContext, type AdapterSummary } from './backend/device.js';
export { BackendError, type Backend, type DType, type MemoryStats } from './backend/index.js';
export { FM_FUSED_MAX_T, kernels, type KernelName } from './kernels.js';
export { DEFAULT_PLAN, kernelPlan, type KernelPlan, type PlanOverrides } from './kernel-plan.js';
export { Module } from './nn/module.js';
export { Linear, LayerNorm, MLP, type Activation } from './nn/layers.js';
export { Embeddings, EmbeddingsFeed, EmbeddingBag, groupFields, type EmbeddingsBatch } from './nn/embedding.js';
export { FmAttention, LinearCompress, CrossNet, DotInteraction, FieldAttention, type Interaction, type FmAttentionOptions } from './nn/interactions.js';
export { DhenLayer, DhenModel, validateConfig, type DhenConfig, type DhenLayerConfig, type InteractionConfig, type DhenOutput } from './nn/dhen.js';
export { initValues, initTensor, type Init } from './nn/init.js';
export {
  CheckpointError, encodeSafetensors, decodeSafetensors, encodeModule, snapshot, restore, saveCheckpoint, loadCheckpoint,
  writeFileAtomic, readCheckpointFile, crc32, saveTrainState, loadTrainState, type TensorData, type SavedTrainState,
} from './nn/checkpoint.js';
export { FiniteGuard, NonFiniteError, type NonFinite } from './train/finite-guard.js';
export { c2alLoss, headLabels, headNames, type Loss } from './train/loss.js';
export { trainStep, type StepBatch, type StepOptions } from './train/step.js';
export { SGD, Adam, AdamW, RowWiseAdagrad, Optimizer, clipGradNorm, learningRate, encodeOptimizerState, restoreOptimizerState, type Schedule,
  type NamedParams } from './train/optim.js';
export {
  train as trainModel, predict, stepCount, stepsPerEpoch, epochOrder,
  type TrainOptions, type TrainingHistory, type Trained, type TrainState, type Evaluation, type AuxHead, type Reweight, type LrSchedule,
} from './train/loop.js';
export { modelConfig, type ModelOptions } from './train/model-config.js';
export { runExperiment, type ExperimentOptions } from './c2al/experiment.js';
export type {
  ExperimentReport, ArmDelta, C2alContrast, CohortSummary, ArmReport, DiscoveryReport, AttentionReport, IntervalStat, Stat,
} from './c2al/results.js';
export { PROTOCOLS, DEFAULT_HYPER, type Protocol, type Hyper, type TuningGrid } from './c2al/protocol.js';
export { ARM_KINDS, armsFor, type Arm, type ArmKind } from './c2al/arms.js';
export { discover, selectCohorts, binPositions, permutedCohorts, METRICS, BINNINGS, type Discovery, type DivergenceMetric, type Selection,
  type Binning } from './c2al/discovery.js';
export { evaluate, cohortMetrics, type CohortResult, type CohortMetrics } from './c2al/evaluate.js';
export { TestSplit, testPredictions } from './c2al/test-split.js';
export { attentionSnapshot, attentionWeights, layerWeights, type AttentionSnapshot } from './c2al/attention.js';
export { meanStd, median, pairedTInterval, pairedBootstrap, percentileInterval, studentTQuantile, studentTCdf, bonferroniLevel } from './c2al/stats.js';
export { renderReport, REPORT_PLOTS } from './c2al/report.js';
export { lineChart, barChart, heatMap, type Series, type BarGroup } from './c2al/svg.js';
export { metrics, bayesNE, type Metrics } from './c2al/metrics.js';
export { attentionStats, fmWeights, NEAR_ZERO, type AttentionStats } from './nn/attention-stats.js';
export { syntheticClicks, WORLDS, type SyntheticOptions, type SyntheticWorld } from './data/synthetic.js';
export { PLANTED_FIELDS, PLANTED_MECHANISMS, PLANTED_MOST_DIFFERENT } from './data/planted-world.js';
export { splitRows, subset, cohortsByField, cohortGroupField, fieldValues, validateClickData, type ClickData } from './data/schema.js';
export { parseMovieLens, loadMovieLens, MOVIELENS_AXES, type MovieLensAxis } from './data/movielens.js';
export { DataError } from './data/schema.js';
export { parseCsv, loadCsv, validateSchema, type CsvSchema } from './data/csv.js';
export { progressLine, progressReporter } from './train/progress.js';
export { GpuProfiler, kernelFlops, kernelBytes, type KernelEvent } from './backend/profiler.js';
export { withPhase, withOp, type Phase } from './backend/profile-tags.js';
export { profileTraining, benchModelConfig, chromeTrace, summarize as summarizeProfile, formatProfile, type ProfileReport, type ProfileOptions,
  type KernelSummary } from './perf/profile.js';
