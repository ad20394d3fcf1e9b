/**
 * Child process for test/checkpoint-faults.test.ts (run with `node --import tsx`): overwrites the
 * checkpoint in argv[2] with a bigger one, then gets SIGKILLed by the parent in the middle.
 *   stall: writes through writeFileAtomic from a source that yields half the bytes, prints "half", and
 *          stalls, so the kill lands inside the write for certain.
 *   race:  prints "writing" and runs saveCheckpoint on a 4 MB model; the parent kills it a few ms later.
 */
import { CpuBackend, MLP, encodeModule, saveCheckpoint, writeFileAtomic } from '../../src/index.js';

const [dir, mode] = process.argv.slice(2) as [string, 'stall' | 'race'];
const backend = new CpuBackend('f32');
const model = new MLP([512, 2048, 2], { backend, seed: 11 });
setInterval(() => {}, 1000); // keep the process alive while the write stalls

if (mode === 'stall') {
  const bytes = await encodeModule(model);
  async function* halfThenStall(): AsyncGenerator<Uint8Array> {
    yield bytes.subarray(0, bytes.length >> 1);
    process.stdout.write('half\n');
    await new Promise(() => {}); // never resumes: the parent kills us here
  }
  // fs.promises.writeFile takes async iterables too; writeFileAtomic passes its data straight through.
  await writeFileAtomic(`${dir}/model.safetensors`, halfThenStall() as unknown as Uint8Array);
} else {
  process.stdout.write('writing\n');
  await saveCheckpoint(dir, model);
  process.stdout.write('done\n');
}
process.exit(0);
