import type { FleetResponse, HostSummary } from "../src/api-types.js";
import { h } from "./dom.js";
import { age, celsius, DASH, gib, percent } from "./format.js";

type Column = "host" | "lastSeen" | "cpu" | "ram" | "temp" | "gpu";

interface ColumnDef {
  id: Column;
  title: string;
  /** Sort value; null sorts last whatever the direction. */
  key: (host: HostSummary) => number | string | null;
}

const maxGpuUtil = (host: HostSummary) => {
  const values = host.gpus.map((gpu) => gpu.utilizationPercent).filter((value): value is number => value !== null);
  return values.length > 0 ? Math.max(...values) : null;
};

const COLUMNS: ColumnDef[] = [
  { id: "host", title: "Host", key: (host) => host.host },
  { id: "lastSeen", title: "Last seen", key: (host) => host.ageSeconds },
  { id: "cpu", title: "CPU", key: (host) => host.cpuPercent },
  { id: "ram", title: "RAM", key: (host) => host.memoryPercent },
  { id: "temp", title: "Hottest CPU", key: (host) => host.hottestCpu?.celsius ?? null },
  { id: "gpu", title: "GPUs (util · VRAM)", key: maxGpuUtil },
];

const sort: { column: Column; ascending: boolean } = { column: "host", ascending: true };

function compare(a: number | string | null, b: number | string | null, ascending: boolean): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  const order = typeof a === "string" ? a.localeCompare(String(b)) : a - (b as number);
  return ascending ? order : -order;
}

function sorted(hosts: HostSummary[]): HostSummary[] {
  const key = (COLUMNS.find((column) => column.id === sort.column) as ColumnDef).key;
  return [...hosts].sort((a, b) => compare(key(a), key(b), sort.ascending) || a.host.localeCompare(b.host));
}

function gpuCell(host: HostSummary): HTMLElement {
  if (host.gpus.length === 0) return h("td", { "data-col": "gpu", class: "none" }, "none");
  return h(
    "td",
    { "data-col": "gpu" },
    ...host.gpus.map((gpu) =>
      h("div", { class: "gpu", title: gpu.name ?? "", "data-gpu": String(gpu.index) }, `${gpu.index}: ${percent(gpu.utilizationPercent)} · ${percent(gpu.memoryPercent)}`),
    ),
  );
}

function row(host: HostSummary): HTMLTableRowElement {
  const status = host.stale ? "stale" : "online";
  const href = `#/host/${encodeURIComponent(host.host)}`;
  return h(
    "tr",
    { "data-host": host.host, class: status },
    h("th", { scope: "row", "data-col": "host" }, h("a", { href }, host.host), " ", h("span", { class: `badge ${status}` }, status)),
    h("td", { "data-col": "lastSeen", "data-age": host.ageSeconds === null ? undefined : String(host.ageSeconds), title: host.lastSeen ?? "" }, age(host.ageSeconds)),
    h("td", { "data-col": "cpu", class: "num" }, percent(host.cpuPercent)),
    h("td", { "data-col": "ram", class: "num" }, percent(host.memoryPercent), h("small", {}, host.memoryTotalBytes === null ? "" : ` ${gib(host.memoryUsedBytes)} / ${gib(host.memoryTotalBytes)}`)),
    host.hottestCpu
      ? h("td", { "data-col": "temp", class: "num", title: host.hottestCpu.sensor }, celsius(host.hottestCpu.celsius))
      : h("td", { "data-col": "temp", class: host.timestamp === null ? "num" : "num none" }, host.timestamp === null ? DASH : "none"),
    gpuCell(host),
  );
}

function header(onSort: () => void): HTMLTableSectionElement {
  return h(
    "thead",
    {},
    h(
      "tr",
      {},
      ...COLUMNS.map((column) => {
        const active = sort.column === column.id;
        const button = h("button", { type: "button", "data-sort": column.id }, column.title, active ? (sort.ascending ? " ▲" : " ▼") : "");
        button.addEventListener("click", () => {
          sort.ascending = active ? !sort.ascending : true;
          sort.column = column.id;
          onSort();
        });
        return h("th", { scope: "col", "aria-sort": active ? (sort.ascending ? "ascending" : "descending") : "none" }, button);
      }),
    ),
  );
}

function listNote(fleet: FleetResponse): string | null {
  if (fleet.list === "legacy") return "list.json is in the old format (an array of names); it is converted on the next upload of any agent.";
  if (fleet.list === "corrupt") return "list.json is unreadable; the agents keep it aside and rebuild it on their next upload. Hosts are shown from their latest documents.";
  return null;
}

/** The fleet table into `container`; re-sorts in place when a header is clicked. */
export function renderFleet(container: HTMLElement, fleet: FleetResponse): void {
  const stale = fleet.hosts.filter((host) => host.stale).length;
  const summary = h("p", { class: "summary" }, `${fleet.hosts.length} hosts · ${fleet.hosts.length - stale} online · ${stale} stale (not heard from for ${fleet.staleAfterSeconds} s)`);
  const note = listNote(fleet);
  if (fleet.hosts.length === 0) {
    container.replaceChildren(
      h("p", { class: "empty" }, `No host has written to ${fleet.store} yet. Start an agent with the same --bucket and --prefix (or --data-dir) as this dashboard.`),
    );
    return;
  }
  const table = h("table", { class: "fleet" });
  const draw = () => table.replaceChildren(header(draw), h("tbody", {}, ...sorted(fleet.hosts).map(row)));
  draw();
  container.replaceChildren(...[summary, note ? h("p", { class: "note" }, note) : null, h("div", { class: "table-wrap" }, table)].filter((node) => node !== null));
}

/** Moves every "last seen" on by the seconds since the data was fetched. */
export function tickAges(container: HTMLElement, secondsSinceFetch: number): void {
  for (const cell of container.querySelectorAll<HTMLElement>("td[data-age]")) cell.textContent = age(Number(cell.dataset.age) + secondsSinceFetch);
}
