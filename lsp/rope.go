package lsp

import (
	"bytes"
	"crypto/sha256"
	"sort"
)

// A publication's diagnostics array is a rope: a sequence of pieces, each a
// slice of a chunk. Bytes of a chunk that a piece covers are never written
// again, so a rope stays valid as long as it is referenced: the next
// version's rope takes the unchanged diagnostics as slices of the last
// one's pieces instead of copying them (3 MB for a 1 MB template), the
// frame is written piece by piece, and two ropes are compared only where
// their pieces are not the same memory.

// chunk is a byte array that pieces are cut from. Its bytes are written in
// order, by appending to buf; below the length buf had when a piece was cut,
// they are never written again.
type chunk struct {
	buf  []byte
	mark uint64 // the last marking that found the chunk referenced (diagEncoder.stamp)
}

// piece is the bytes c.buf[lo:lo+len(b)], capped so that appending to b
// can never write into the chunk.
type piece struct {
	b  []byte
	c  *chunk
	lo int
}

// rope is a JSON text as pieces; at[k] is the offset of pieces[k] in it.
// Pieces are never empty.
type rope struct {
	pieces []piece
	at     []int
	size   int
}

// add appends the bytes c.buf[lo:hi], extending the last piece when they
// follow it in the same chunk.
func (r *rope) add(c *chunk, lo, hi int) {
	if lo == hi {
		return
	}
	if n := len(r.pieces); n > 0 {
		if p := &r.pieces[n-1]; p.c == c && p.lo+len(p.b) == lo {
			p.b = c.buf[p.lo:hi:hi]
			r.size += hi - lo
			return
		}
	}
	r.pieces = append(r.pieces, piece{b: c.buf[lo:hi:hi], c: c, lo: lo})
	r.at = append(r.at, r.size)
	r.size += hi - lo
}

// addRange appends the bytes [lo, hi) of src, as slices of its pieces.
func (r *rope) addRange(src *rope, lo, hi int) {
	k := sort.SearchInts(src.at, lo+1) - 1 // the piece holding lo
	for lo < hi {
		p := &src.pieces[k]
		from := lo - src.at[k]
		to := min(len(p.b), hi-src.at[k])
		r.add(p.c, p.lo+from, p.lo+to)
		lo = src.at[k] + to
		k++
	}
}

// bytes returns the text in one new slice.
func (r *rope) bytes() []byte {
	out := make([]byte, 0, r.size)
	for _, p := range r.pieces {
		out = append(out, p.b...)
	}
	return out
}

// sum returns the SHA-256 digest of the text.
func (r *rope) sum() (sum [sha256.Size]byte) {
	h := sha256.New()
	for _, p := range r.pieces {
		h.Write(p.b)
	}
	h.Sum(sum[:0])
	return sum
}

// equal reports whether two ropes hold the same text. Stretches that are
// the same memory in both (a diagnostic the later version took from the
// earlier one) are equal without being read: comparing a version with the
// last one costs the bytes that changed, not the payload.
func (r *rope) equal(o *rope) bool {
	if r.size != o.size {
		return false
	}
	var x, y []byte
	i, j := 0, 0
	for {
		if len(x) == 0 {
			if i == len(r.pieces) {
				return true // sizes are equal: o is done too
			}
			x, i = r.pieces[i].b, i+1
		}
		if len(y) == 0 {
			y, j = o.pieces[j].b, j+1
		}
		n := min(len(x), len(y))
		if &x[0] != &y[0] && !bytes.Equal(x[:n], y[:n]) {
			return false
		}
		x, y = x[n:], y[n:]
	}
}
