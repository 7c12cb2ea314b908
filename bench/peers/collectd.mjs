// collectd as the issue asks for it: cpu, memory, swap, cpufreq, thermal and the csv writer, every 1 s, all under `dir`.
export function collectdConfig(dir) {
  return `Interval 1
BaseDir "${dir}"
PIDFile "${dir}/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
FQDNLookup false
LoadPlugin cpu
LoadPlugin memory
LoadPlugin swap
LoadPlugin cpufreq
LoadPlugin thermal
LoadPlugin csv
<Plugin csv>
  DataDir "${dir}/csv"
  StoreRates false
</Plugin>
`;
}
