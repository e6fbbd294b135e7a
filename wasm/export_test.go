package wasm

// WithoutPreemption returns a copy of cfg whose engine compiles the
// module without the checks that let the host stop a guest, for the
// benchmarks that measure what the checks cost. Such an engine can hang
// the process (see New).
func WithoutPreemption(cfg Config) *Config {
	cfg.unsafeNoPreemption = true
	return &cfg
}

// InstancePages returns the size, in pages of 64 KiB, of the linear
// memory of each idle instance of s, and how many instances s has.
func (s *Script) InstancePages() (pages []uint32, instances int) {
	p := s.p
	p.mu.Lock()
	defer p.mu.Unlock()
	var idle []*instance
drain:
	for {
		select {
		case in := <-p.idle:
			idle = append(idle, in)
		default:
			break drain
		}
	}
	for _, in := range idle {
		pages = append(pages, in.mod.Memory().Size()/65536)
		p.idle <- in
	}
	return pages, len(p.tokens)
}
