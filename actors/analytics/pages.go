package analytics

import (
	"cmp"
	"slices"
	"sort"
)

// pageIndex answers an app's page totals over a range of time without
// looking at every track: it keeps the totals of each UTC day and of each
// 15-minute bucket, and the tracks of each bucket for a range that cuts
// one. Zone offsets are multiples of 15 minutes, so a local day is whole
// buckets: a range of local days reads at most 2 × 95 buckets and the
// days between them. Over 1M tracks on 50 pages in 30 days
// (BenchmarkPages), a week of all users takes 8.3 µs (42 µs in a zone at
// +05:30; 10.7 and 74 µs with a map per day and bucket, on the same
// machine) where scanning every track took 2.8 ms; it costs about 12 B
// more heap per track (40 instead of 28, the user's track list included).
//
// Everything is sparse, so that a client sending tracks on many distinct
// days (times far in the past, or an app with a few tracks a day) costs a
// few hundred bytes a day, not the 1.6 KB of a table of 96 buckets and
// maps: a day holds only its busy buckets, and a day or bucket its pages
// in a short sorted list until it has more than smallPages
// (BenchmarkSmallMemory/day). Days sit in blocks of blockDays by day
// number, so that a day arriving before the others moves at most one
// block's list and the list of blocks, never all the days.
type pageIndex struct {
	blocks []pageBlock // ascending by number
	// lean: a bucket keeps totals only once it has more than leanTracks
	// tracks (a user's own index: a quiet bucket a range holds whole is
	// read track by track), about 60 bytes less a bucket with a few.
	lean bool
}

type pageBlock struct {
	num  int64      // day number / blockDays
	days []*pageDay // ascending by day number
}

type pageDay struct {
	num     int64 // UTC day number
	totals  pageTotals
	buckets []pageBucket // the busy ones, ascending
}

type pageBucket struct {
	totals pageTotals
	tracks []uint32 // positions in App.tracks
	n      uint8    // bucket of the day, 0..bucketsDay-1
	// counted: totals are kept (always, but in a lean index).
	counted bool
}

// leanTracks is the most tracks a bucket of a lean index holds without
// totals.
const leanTracks = 16

// add indexes t, which is track i of tracks (pushed already).
func (x *pageIndex) add(t track, i uint32, tracks *trackList) {
	dn := floorDiv(t.at, dayMs)
	d := x.day(dn)
	pt := PageTotal{Visits: 1, Ms: t.ms}
	d.totals.add(t.page, pt)
	b := d.bucket(uint8((t.at - dn*dayMs) / BucketMs))
	b.tracks = append(b.tracks, i)
	switch {
	case b.counted:
		b.totals.add(t.page, pt)
	case !x.lean:
		b.counted = true
		b.totals.add(t.page, pt)
	case len(b.tracks) > leanTracks:
		b.counted = true
		for _, j := range b.tracks {
			tj := tracks.at(j)
			b.totals.add(tj.page, PageTotal{Visits: 1, Ms: tj.ms})
		}
	}
}

// day returns day number dn, adding it.
func (x *pageIndex) day(dn int64) *pageDay {
	bn := floorDiv(dn, blockDays)
	var blk *pageBlock
	if n := len(x.blocks); n > 0 && x.blocks[n-1].num == bn { // the usual case: the latest days
		blk = &x.blocks[n-1]
	} else {
		k, found := slices.BinarySearchFunc(x.blocks, bn, func(b pageBlock, bn int64) int { return cmp.Compare(b.num, bn) })
		if !found {
			x.blocks = slices.Insert(x.blocks, k, pageBlock{num: bn})
		}
		blk = &x.blocks[k]
	}
	if n := len(blk.days); n > 0 && blk.days[n-1].num == dn { // the usual case: today
		return blk.days[n-1]
	}
	k, found := slices.BinarySearchFunc(blk.days, dn, func(d *pageDay, dn int64) int { return cmp.Compare(d.num, dn) })
	if !found {
		blk.days = slices.Insert(blk.days, k, &pageDay{num: dn})
	}
	return blk.days[k]
}

// bucket returns bucket n of d, adding it.
func (d *pageDay) bucket(n uint8) *pageBucket {
	if k := len(d.buckets); k > 0 && d.buckets[k-1].n == n { // the usual case: now
		return &d.buckets[k-1]
	}
	k, found := slices.BinarySearchFunc(d.buckets, n, func(b pageBucket, n uint8) int { return cmp.Compare(b.n, n) })
	if !found {
		d.buckets = slices.Insert(d.buckets, k, pageBucket{n: n})
	}
	return &d.buckets[k]
}

// sum calls add with the totals of the tracks with from <= at < to, a page
// at a time (the same page may come more than once).
func (x *pageIndex) sum(tracks *trackList, from, to int64, add func(page uint32, pt PageTotal)) {
	fromDay := floorDiv(from, dayMs)
	fromBlock := floorDiv(fromDay, blockDays)
	k := sort.Search(len(x.blocks), func(k int) bool { return x.blocks[k].num >= fromBlock })
	for ; k < len(x.blocks); k++ {
		days := x.blocks[k].days
		if x.blocks[k].num == fromBlock {
			days = days[sort.Search(len(days), func(j int) bool { return days[j].num >= fromDay }):]
		}
		for _, d := range days {
			start := d.num * dayMs
			if start >= to {
				return
			}
			if from <= start && start+dayMs <= to {
				d.totals.each(add) // the whole day is in the range
				continue
			}
			for bi := range d.buckets {
				b := &d.buckets[bi]
				bStart := start + int64(b.n)*BucketMs
				switch {
				case bStart+BucketMs <= from || bStart >= to:
				case from <= bStart && bStart+BucketMs <= to && b.counted:
					b.totals.each(add)
				default: // the range cuts this bucket
					for _, i := range b.tracks {
						if t := tracks.at(i); t.at >= from && t.at < to {
							add(t.page, PageTotal{Visits: 1, Ms: t.ms})
						}
					}
				}
			}
		}
	}
}

// pageTotals are totals by page id: a list sorted by page while there are
// at most smallPages (a map holding one page takes 256 bytes, the list 24,
// and a list is read faster), a map beyond (a list would be moved on
// every new page).
type pageTotals struct {
	list []pageEntry
	m    map[uint32]PageTotal
}

type pageEntry struct {
	page uint32
	PageTotal
}

// smallPages is the most pages a pageTotals keeps in its list.
const smallPages = 64

// add adds pt to the totals of page.
func (p *pageTotals) add(page uint32, pt PageTotal) {
	if p.m != nil {
		t := p.m[page]
		t.Visits += pt.Visits
		t.Ms += pt.Ms
		p.m[page] = t
		return
	}
	k, found := slices.BinarySearchFunc(p.list, page, func(e pageEntry, page uint32) int { return cmp.Compare(e.page, page) })
	switch {
	case found:
		p.list[k].Visits += pt.Visits
		p.list[k].Ms += pt.Ms
	case len(p.list) < smallPages:
		p.list = slices.Insert(p.list, k, pageEntry{page: page, PageTotal: pt})
	default:
		p.m = make(map[uint32]PageTotal, 2*smallPages)
		for _, e := range p.list {
			p.m[e.page] = e.PageTotal
		}
		p.m[page] = pt
		p.list = nil
	}
}

// len is the number of pages.
func (p *pageTotals) len() int { return len(p.list) + len(p.m) }

// each calls fn for every page (in page order while the list holds them).
func (p *pageTotals) each(fn func(page uint32, pt PageTotal)) {
	for _, e := range p.list {
		fn(e.page, e.PageTotal)
	}
	for page, pt := range p.m {
		fn(page, pt)
	}
}

// pageSums adds up page totals: in a slice by page id when the app has few
// pages (faster), in a map when it has many (a range then costs what it
// holds, not the app's number of pages).
type pageSums struct {
	dense  []PageTotal
	sparse map[uint32]PageTotal
}

// denseMax is the most pages for which pageSums uses a slice.
const denseMax = 4096

func newPageSums(pages int) *pageSums {
	if pages <= denseMax {
		return &pageSums{dense: make([]PageTotal, pages)}
	}
	return &pageSums{sparse: make(map[uint32]PageTotal)}
}

func (p *pageSums) add(page uint32, pt PageTotal) {
	if p.dense != nil {
		p.dense[page].Visits += pt.Visits
		p.dense[page].Ms += pt.Ms
		return
	}
	st := p.sparse[page]
	st.Visits += pt.Visits
	st.Ms += pt.Ms
	p.sparse[page] = st
}

// each calls fn for every page with a visit.
func (p *pageSums) each(fn func(page uint32, pt PageTotal)) {
	for page, pt := range p.dense {
		if pt.Visits > 0 {
			fn(uint32(page), pt)
		}
	}
	for page, pt := range p.sparse {
		fn(page, pt)
	}
}

// bucketOf returns the bucket of time at, or nil when it has no track.
func (x *pageIndex) bucketOf(at int64) *pageBucket {
	dn := floorDiv(at, dayMs)
	bn := floorDiv(dn, blockDays)
	k, found := slices.BinarySearchFunc(x.blocks, bn, func(b pageBlock, bn int64) int { return cmp.Compare(b.num, bn) })
	if !found {
		return nil
	}
	days := x.blocks[k].days
	j, found := slices.BinarySearchFunc(days, dn, func(d *pageDay, dn int64) int { return cmp.Compare(d.num, dn) })
	if !found {
		return nil
	}
	d := days[j]
	n := uint8((at - dn*dayMs) / BucketMs)
	bi, found := slices.BinarySearchFunc(d.buckets, n, func(b pageBucket, n uint8) int { return cmp.Compare(b.n, n) })
	if !found {
		return nil
	}
	return &d.buckets[bi]
}
