// systeminformation's equivalent of one resourcemonitor tick, on the same wall-clock schedule (1 s by default).
import si from "systeminformation";

const intervalMs = Number(process.argv[2] ?? 1000);
let ticks = 0;

async function tick() {
  await Promise.all([si.currentLoad(), si.mem(), si.cpuCurrentSpeed(), si.cpuTemperature()]);
  ticks += 1;
}

function schedule() {
  setTimeout(async () => {
    await tick();
    schedule();
  }, intervalMs - (Date.now() % intervalMs));
}

process.on("SIGTERM", () => {
  process.stdout.write(`${JSON.stringify({ ticks })}\n`);
  process.exit(0);
});
schedule();
