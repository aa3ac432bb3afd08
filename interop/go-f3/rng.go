package main

// prng is a small deterministic generator (SplitMix64). The fixtures must be
// byte-for-byte reproducible across Go releases, so we avoid math/rand.
type prng struct{ state uint64 }

func newPRNG(seed uint64, stream uint64) *prng {
	p := &prng{state: seed*0x9E3779B97F4A7C15 ^ stream}
	// Warm up so that nearby seeds diverge immediately.
	for i := 0; i < 4; i++ {
		p.next()
	}
	return p
}

func (p *prng) next() uint64 {
	p.state += 0x9E3779B97F4A7C15
	z := p.state
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// intn returns a value in [0, n). n must be positive.
func (p *prng) intn(n int) int {
	if n <= 0 {
		panic("intn: non-positive bound")
	}
	return int(p.next() % uint64(n))
}

// between returns a value in [lo, hi].
func (p *prng) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + p.intn(hi-lo+1)
}

// chance returns true with probability num/den.
func (p *prng) chance(num, den int) bool {
	return p.intn(den) < num
}

func (p *prng) bytes(n int) []byte {
	out := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := p.next()
		for j := 0; j < 8 && i+j < n; j++ {
			out[i+j] = byte(v >> (8 * j))
		}
	}
	return out
}

// shuffle returns a permutation of [0, n).
func (p *prng) perm(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := p.intn(i + 1)
		out[i], out[j] = out[j], out[i]
	}
	return out
}
