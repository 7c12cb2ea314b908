// What the side-by-side benchmarks read about the processes they start, from /proc.
import { spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";

const CLOCK_TICK_MS = 10; // USER_HZ is 100 on every Linux ABI

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function readProc(pid, file) {
  return readFileSync(`/proc/${pid}/${file}`, "utf8");
}

/** utime+stime of the process and of its waited-for children, ms. */
export function cpuFromStat(pid) {
  const text = readProc(pid, "stat");
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const ticks = (index) => Number(fields[index - 3]);
  return (ticks(14) + ticks(15) + ticks(16) + ticks(17)) * CLOCK_TICK_MS;
}

/** Sums one field of every thread's schedstat (threads that exited during the run are not counted). */
function schedstatSum(pid, field) {
  let total = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readProc(pid, `task/${task}/schedstat`).split(" ")[field]);
    } catch {
      // thread exited
    }
  }
  return total;
}

/** Nanosecond-accurate CPU of every thread, ms. */
export const cpuFromSchedstat = (pid) => schedstatSum(pid, 0) / 1e6;

/** How many times a thread of the process was put on a CPU (wakeups and preemptions). */
export const runsFromSchedstat = (pid) => schedstatSum(pid, 2);

export function rssBytes(pid) {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readProc(pid, "status"))[1]) * 1024;
}

/** Bytes handed to write(2) and friends: files, sockets and pipes alike. */
export function writtenBytes(pid) {
  return Number(/wchar: (\d+)/.exec(readProc(pid, "io"))[1]);
}

export function median(list) {
  const sorted = [...list].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** RSS of each process once a second for `seconds`; returns the readings and the seconds that passed. */
export async function sampleRss(processes, seconds) {
  const startedAt = Date.now();
  const rss = processes.map(() => []);
  while (Date.now() - startedAt < seconds * 1000) {
    await sleep(1000);
    processes.forEach(({ child }, index) => rss[index].push(rssBytes(child.pid)));
  }
  return { rss, elapsed: (Date.now() - startedAt) / 1000 };
}

/** Starts a measured process (stdout ignored, the end of stderr kept for an error message). */
export function startProcess(name, command, args, { cwd, env = {} }) {
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr = (stderr + chunk).slice(-4000)));
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal)));
  return { name, child, exited, stderr: () => stderr };
}

/** SIGTERM to each, then SIGKILL to any still running after 5 s. */
export async function stopProcesses(processes) {
  for (const { child } of processes) child.kill("SIGTERM");
  await Promise.all(processes.map(({ exited }) => Promise.race([exited, sleep(5000)])));
  for (const { child } of processes) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}
