import { execFile } from "node:child_process";
import { copyFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import koffi from "koffi";

const FIXTURES = join(import.meta.dirname, "fixtures");
export const FAKE_NVIDIA_SMI = join(FIXTURES, "nvidia-smi");

export type Variant = "v2" | "v1-only";

let built: Promise<Record<Variant, string>> | undefined;

/** Compiles fixtures/fake-nvml.c with the machine's gcc, once per test process, in both variants. */
export function buildFakeNvml(): Promise<Record<Variant, string>> {
  built ??= (async () => {
    const directory = await mkdtemp(join(tmpdir(), "rm-fake-nvml-"));
    const source = join(FIXTURES, "fake-nvml.c");
    const compile = (output: string, ...flags: string[]) =>
      promisify(execFile)("gcc", ["-shared", "-fPIC", "-O2", "-Wall", "-Werror", ...flags, "-o", join(directory, output), source]);
    await Promise.all([compile("libnvidia-ml.so.1"), compile("libnvidia-ml-v1.so.1", "-DFAKE_NVML_V1_ONLY")]);
    return { v2: join(directory, "libnvidia-ml.so.1"), "v1-only": join(directory, "libnvidia-ml-v1.so.1") };
  })();
  return built;
}

export interface FakeLibrary {
  path: string;
  /** How often the library's `name` function was called so far. */
  calls(name: string): number;
}

/**
 * A copy of the fake library in its own directory: the dynamic loader keeps one instance per path, so each
 * test gets fresh counters and GPUs. The test holds it loaded, so its state survives the plugin's reopen.
 */
export async function freshFakeNvml(variant: Variant = "v2"): Promise<FakeLibrary> {
  const source = (await buildFakeNvml())[variant];
  const path = join(await mkdtemp(join(tmpdir(), "rm-fake-nvml-copy-")), "libnvidia-ml.so.1");
  await copyFile(source, path);
  const calls = koffi.load(path).func("fake_nvml_calls", "int", ["const char *"]) as (name: string) => number;
  return { path, calls };
}

/** Sets the fake's environment variables (read at nvmlInit_v2) for the duration of `work`. */
export async function withEnv<T>(env: Record<string, string>, work: () => Promise<T>): Promise<T> {
  const before = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  try {
    return await work();
  } finally {
    for (const [key, value] of Object.entries(before)) {
      if (value === undefined) Reflect.deleteProperty(process.env, key);
      else process.env[key] = value;
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
