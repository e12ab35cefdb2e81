//go:build scratch

package dedup

func init() {
	if s := envf("BENCHN", 0); s > 0 {
		benchSizes = []int{int(s)}
	}
}
