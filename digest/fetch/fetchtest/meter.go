package fetchtest

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Meter measures one phase of a benchmark: wall time through the
// benchmark timer, and the process's CPU time (user + system, from getrusage) while the timer
// runs. On a shared machine other processes stretch the wall time; the
// CPU time per feed is what the work costs whatever the neighbours do.
type Meter struct {
	b       *testing.B
	cpu     time.Duration
	started time.Duration
}

// StartPhase collects garbage, resets the process's peak RSS (so that each
// phase reports its own peak) and starts the clocks.
func StartPhase(b *testing.B) *Meter {
	b.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("cannot reset the peak RSS (%v); the figure covers the whole process", err)
	}
	m := &Meter{b: b}
	b.ResetTimer()
	m.started = cpuTime()
	return m
}

// Pause stops the clocks for work that is not measured.
func (m *Meter) Pause() {
	m.b.StopTimer()
	m.cpu += cpuTime() - m.started
}

// Resume restarts the clocks.
func (m *Meter) Resume() {
	m.started = cpuTime()
	m.b.StartTimer()
}

// End reports feeds/s (wall clock), feeds per CPU-second and the peak RSS
// of the phase.
func (m *Meter) End(feeds int) {
	m.Pause()
	b := m.b
	total := float64(feeds) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "feeds/s")
	if m.cpu > 0 {
		b.ReportMetric(total/m.cpu.Seconds(), "feeds/cpu-s")
	}
	if mb := peakRSSMB(); mb > 0 {
		b.ReportMetric(mb, "peak-RSS-MB")
	}
	b.ReportMetric(0, "ns/op")
}

// peakRSSMB returns VmHWM from /proc/self/status in MB, or 0.
func peakRSSMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}
