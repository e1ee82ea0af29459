//! What a process has spent, from Linux's `/proc`.

/// CPU seconds (user and system) process `pid` has used — this process
/// when `None` — from its `/proc/<pid>/stat`. The clock tick is 100 Hz on
/// every Linux this runs on (`sysconf(_SC_CLK_TCK)` without libc).
pub fn cpu_seconds(pid: Option<u32>) -> f64 {
    let path = pid.map_or_else(
        || "/proc/self/stat".to_owned(),
        |p| format!("/proc/{p}/stat"),
    );
    let stat = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    // the fields after the command name, which is in parentheses
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = f[11].parse::<f64>().expect("utime") + f[12].parse::<f64>().expect("stime");
    ticks / 100.0
}
