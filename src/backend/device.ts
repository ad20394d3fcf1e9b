/**
 * requestGpuDevice(): one way to get a GPUDevice in Node (npm `webgpu`, Dawn) and in browsers
 * (navigator.gpu). Asks for the adapter's real limits, enables `timestamp-query` when offered, labels
 * the device, watches device loss and uncaptured errors. Dawn flags come from options.dawnFlags and the
 * C2AL_DAWN environment variable ("adapter=NAME,backend=vulkan,enable-dawn-features=a,b").
 */

export interface DeviceOptions {
  /** Dawn `create()` flags (Node only), e.g. ['adapter=SwiftShader', 'backend=vulkan']. */
  dawnFlags?: string[];
  powerPreference?: GPUPowerPreference;
}

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /**
   * The adapter runs on the host's CPU cores (a fallback adapter: lavapipe, SwiftShader, WARP), so host work
   * done while the device runs takes cores from the device's kernels instead of hiding behind them.
   */
  cpuAdapter: boolean;
}

export interface GpuContext {
  device: GPUDevice;
  adapter: AdapterSummary;
  /** 'dawn' in Node, 'browser' for navigator.gpu. */
  runtime: 'dawn' | 'browser';
  /** Features the adapter offers. */
  adapterFeatures: string[];
  /** Features enabled on the device (what the engine asked for and got). */
  features: string[];
  limits: Record<string, number>;
  /**
   * The subgroup size when the device has the 'subgroups' feature and the adapter runs one fixed size
   * (subgroupMinSize == subgroupMaxSize), else null: kernels that assume a size (matmul_sg) need it.
   */
  subgroupSize: number | null;
  /** Messages of uncaptured GPU errors, oldest first. Tests assert it stays empty. */
  errors: string[];
  /** Set once the device is lost, with Dawn's reason and message. */
  lost: { reason: string; message: string } | null;
  destroy(): void;
}

export class NoAdapterError extends Error {
  override name = 'NoAdapterError';
}

/** Limits the engine raises to the adapter's values (the defaults are far below what CPUs/GPUs offer). */
export const IMPORTANT_LIMITS = [
  'maxBufferSize', 'maxStorageBufferBindingSize', 'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension', 'maxUniformBufferBindingSize',
] as const;

/** What the engine's kernels need; doctor reports each. */
export const REQUIRED_LIMITS: Record<string, number> = {
  maxStorageBuffersPerShaderStage: 4,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupStorageSize: 1024,
  maxDynamicUniformBuffersPerPipelineLayout: 1,
};

const isNode = (): boolean => typeof process !== 'undefined' && !!process.versions?.node;

/** Splits "a=1,enable-dawn-features=x,y,backend=vulkan" into flags; a part without '=' continues the previous value. */
export function parseDawnFlags(text: string | undefined): string[] {
  const flags: string[] = [];
  for (const part of (text ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    if (part.includes('=') || flags.length === 0) flags.push(part);
    else flags[flags.length - 1] += `,${part}`;
  }
  return flags;
}

async function getGpu(opts: DeviceOptions): Promise<{ gpu: GPU; runtime: 'dawn' | 'browser'; release: () => void }> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return { gpu: nav.gpu, runtime: 'browser', release: () => {} };
  if (!isNode()) throw new NoAdapterError('this browser has no WebGPU (navigator.gpu is undefined); use a recent Chromium-based browser, or launch ' +
    'Chromium with --enable-unsafe-webgpu');
  const moduleName = 'webgpu';
  const dawn = (await import(/* @vite-ignore */ moduleName)) as { create: (flags: string[]) => GPU; globals: object };
  Object.assign(globalThis, dawn.globals);
  const flags = [...parseDawnFlags(process.env.C2AL_DAWN), ...(opts.dawnFlags ?? [])];
  // Dawn keeps Node alive while this object is referenced: release() drops it.
  let gpu: GPU | null = dawn.create(flags);
  return { gpu, runtime: 'dawn', release: () => { gpu = null; } };
}

export const NO_ADAPTER_HINT = 'Install a Vulkan driver: on Debian 12 as root run `bash scripts/system-setup.sh` ' +
  '(Mesa >= 24 lavapipe from bookworm-backports), or select SwiftShader with ' +
  'VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json. `npx c2al doctor` shows what was found.';

export async function requestGpuDevice(opts: DeviceOptions = {}): Promise<GpuContext> {
  const { gpu, runtime, release } = await getGpu(opts);
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) {
    release();
    throw new NoAdapterError(`no WebGPU adapter found (${runtime}). ${runtime === 'dawn' ? NO_ADAPTER_HINT : ''}`.trim());
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of IMPORTANT_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[name];
    if (typeof v === 'number') requiredLimits[name] = v;
  }
  const requiredFeatures = (['timestamp-query', 'subgroups'] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
  const device = await adapter.requestDevice({ label: 'c2al device', requiredLimits, requiredFeatures });
  const info = adapter.info;
  const { subgroupMinSize: sgMin, subgroupMaxSize: sgMax } = info as { subgroupMinSize?: number; subgroupMaxSize?: number };
  const subgroupSize = device.features.has('subgroups') && sgMin && sgMin === sgMax && [4, 8, 16, 32, 64, 128].includes(sgMin) ? sgMin : null;
  const ctx: GpuContext = {
    device,
    adapter: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description,
      cpuAdapter: (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true || ['software', 'swiftshader'].includes(info.architecture) },
    runtime,
    adapterFeatures: [...adapter.features].map(String).sort(),
    features: [...device.features].map(String).sort(),
    limits: readLimits(device.limits),
    subgroupSize,
    errors: [],
    lost: null,
    destroy: () => { device.destroy(); release(); },
  };
  void device.lost.then((l) => {
    ctx.lost = { reason: String(l.reason), message: l.message };
    if (l.reason !== 'destroyed') console.error(`c2al: WebGPU device lost (${l.reason}): ${l.message}`);
  });
  const onError = (e: Event): void => {
    const msg = (e as GPUUncapturedErrorEvent).error?.message ?? String(e);
    ctx.errors.push(msg);
    console.error(`c2al: uncaptured WebGPU error: ${msg}`);
  };
  if (typeof device.addEventListener === 'function') device.addEventListener('uncapturederror', onError);
  else (device as { onuncapturederror: unknown }).onuncapturederror = onError;
  return ctx;
}

function readLimits(limits: GPUSupportedLimits): Record<string, number> {
  const out: Record<string, number> = {};
  // Limits are prototype getters in both Dawn and browsers: walk the prototype, not own keys.
  const proto = Object.getPrototypeOf(limits) as object;
  for (const key of Object.getOwnPropertyNames(proto)) {
    const v = (limits as unknown as Record<string, unknown>)[key];
    if (typeof v === 'number') out[key] = v;
  }
  return out;
}
