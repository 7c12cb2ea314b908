import "uplot/dist/uPlot.min.css";
import "./style.css";
import { RANGES, type FleetResponse, type HistoryResponse, type RangeName } from "../src/api-types.js";
import { ApiError, getJson } from "./api.js";
import { destroyCharts } from "./charts.js";
import { h } from "./dom.js";
import { renderFleet, tickAges } from "./fleet.js";
import { renderHost } from "./host.js";
import { markFirstRender } from "./marks.js";
import { dropPrefetched } from "./prefetch.js";
import { hostViewPath, hostsPath, parseRoute } from "./route.js";

const view = document.getElementById("view") as HTMLElement;
const banner = document.getElementById("banner") as HTMLElement;
const storeLabel = document.getElementById("store") as HTMLElement;
const updated = document.getElementById("updated") as HTMLElement;

/** Everything the current view scheduled; cleared when the route changes. */
let timers: number[] = [];
/** Bumped on every route change, so a slow answer for the previous view is dropped. */
let generation = 0;

function showError(error: unknown): void {
  const problem = error instanceof ApiError ? error : new ApiError(String(error), "Reload the page.", "page");
  banner.replaceChildren(h("strong", {}, problem.message), " ", h("span", {}, problem.hint));
  banner.dataset.code = problem.code;
  banner.hidden = false;
}

function clearError(): void {
  banner.hidden = true;
  banner.replaceChildren();
}

function stamp(): void {
  updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
}

/** Runs `load` now and again every `seconds`, for as long as the view lasts. */
function every(seconds: number | (() => number), load: () => Promise<void>, mine: number): void {
  const next = () => {
    if (mine !== generation) return;
    timers.push(window.setTimeout(() => void run(), (typeof seconds === "number" ? seconds : seconds()) * 1000));
  };
  const run = async () => {
    try {
      await load();
      if (mine === generation) clearError();
    } catch (error) {
      if (mine === generation) showError(error);
    }
    next();
  };
  void run();
}

function fleetView(mine: number): void {
  document.title = "Fleet · resourcemonitor";
  let interval = 60;
  let fetchedAt = Date.now();
  every(
    () => interval,
    async () => {
      const fleet = await getJson<FleetResponse>(hostsPath);
      if (mine !== generation) return;
      interval = Math.max(1, fleet.intervalSeconds);
      fetchedAt = Date.now();
      storeLabel.textContent = fleet.store;
      renderFleet(view, fleet);
      markFirstRender();
      stamp();
    },
    mine,
  );
  timers.push(window.setInterval(() => tickAges(view, (Date.now() - fetchedAt) / 1000), 1000));
}

function hostView(host: string, range: RangeName, mine: number): void {
  document.title = `${host} · resourcemonitor`;
  let refresh = 60;
  const encoded = encodeURIComponent(host);
  every(
    () => refresh,
    async () => {
      const history = await getJson<HistoryResponse>(hostViewPath(host, range));
      if (mine !== generation) return;
      const latest = history.latest ?? undefined;
      // A day's chart changes little per sample: refresh it less often than the agents write.
      refresh = Math.max(1, history.intervalSeconds, RANGES[range] / 360);
      renderHost(view, host, latest, history, range, (next) => (location.hash = `#/host/${encoded}?range=${next}`));
      markFirstRender();
      stamp();
    },
    mine,
  );
}

function route(): void {
  generation += 1;
  for (const timer of timers) window.clearTimeout(timer);
  timers = [];
  destroyCharts();
  clearError();
  view.replaceChildren(h("p", { class: "loading" }, "Loading…"));
  const current = parseRoute(location.hash);
  if (current.view === "fleet") fleetView(generation);
  else hostView(current.host, current.range, generation);
}

window.addEventListener("hashchange", route);
// Canvas colours come from CSS variables: redraw when the system switches between light and dark.
window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", route);
route();
// The first view has taken the boot script's requests it wanted (synchronously, before its first await).
dropPrefetched();
