package analytics

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/sessionserver/sessionserver/actors/session"
)

// Range selects instants in [From, To) (Unix ms) and places them in the
// calendar of Loc. All is every instant.
type Range struct {
	From, To int64
	Loc      *time.Location
}

// All is the unbounded range in UTC.
func All() Range { return Range{From: math.MinInt64, To: math.MaxInt64, Loc: time.UTC} }

// Bounded reports whether the range has a lower or an upper bound.
func (r Range) Bounded() bool { return r.From != math.MinInt64 || r.To != math.MaxInt64 }

// inner returns the part of r that is whole buckets, and whether it has
// any: the rest of r is the buckets it cuts at either end.
func (r Range) inner() (Range, bool) {
	in := r
	if in.From != math.MinInt64 {
		if in.From > math.MaxInt64-BucketMs {
			return in, false
		}
		in.From = floorDiv(in.From+BucketMs-1, BucketMs) * BucketMs
	}
	if in.To != math.MaxInt64 {
		in.To = floorDiv(in.To, BucketMs) * BucketMs
	}
	return in, in.From < in.To
}

// Contains reports whether ms lies in the range.
func (r Range) Contains(ms int64) bool { return ms >= r.From && ms < r.To }

// cell holds the counters of one 15-minute bucket. The start-based fields
// count sessions whose start lies in the bucket; occMs is the active time
// that happened during the bucket, whichever session it belongs to.
type cell struct {
	starts, ended     int64
	activeMs          int64 // closed active time of sessions started here
	endedMs           int64 // active time of the ended ones
	shortest, longest int64 // over ended sessions started here
	occMs             int64
	// act is the active time of the sessions started here, by the bucket
	// it happened in (ascending): a range of start times reads the
	// active time per day of its sessions from it.
	act []occ
}

// occ is active time that happened in one bucket.
type occ struct {
	bucket int64 // Unix ms / BucketMs
	ms     int64
}

// addAct adds ms of active time in bucket to c.act.
func (c *cell) addAct(bucket, ms int64) {
	n := len(c.act)
	if n == 0 || c.act[n-1].bucket < bucket { // the usual case: time goes forward
		c.act = append(c.act, occ{bucket, ms})
		return
	}
	if c.act[n-1].bucket == bucket {
		c.act[n-1].ms += ms
		return
	}
	i, found := slices.BinarySearchFunc(c.act, bucket, func(o occ, b int64) int { return cmp.Compare(o.bucket, b) })
	if found {
		c.act[i].ms += ms
		return
	}
	c.act = slices.Insert(c.act, i, occ{bucket, ms})
}

type dayCells [bucketsDay]cell

// day holds one UTC day's buckets: sparse, as a short list of the busy
// ones, until more than sparseMax are busy; then dense, all 96. Events on
// many distinct days (a client sending times far in the past, or an app
// with a few sessions a day) then cost about 200 bytes a day, not 5.4 KB,
// and reads skip the empty buckets of such days without looking at them.
type day struct {
	dense *dayCells
	idx   []uint8 // sparse: the bucket numbers, ascending
	cells []cell  // sparse: their cells
}

// sparseMax is the most busy buckets a sparse day holds.
const sparseMax = 8

// cell returns bucket i's cell, adding it.
func (d *day) cell(i int) *cell {
	if d.dense != nil {
		return &d.dense[i]
	}
	k, found := slices.BinarySearch(d.idx, uint8(i))
	if found {
		return &d.cells[k]
	}
	if len(d.idx) < sparseMax {
		d.idx = slices.Insert(d.idx, k, uint8(i))
		d.cells = slices.Insert(d.cells, k, cell{})
		return &d.cells[k]
	}
	d.dense = new(dayCells)
	for j, b := range d.idx {
		d.dense[b] = d.cells[j]
	}
	d.idx, d.cells = nil, nil
	return &d.dense[i]
}

// each calls fn for the runs of buckets lo..hi-1 of d (base: the day's
// first ms): one run when dense, one per busy bucket when sparse.
func (d *day) each(base, lo, hi int64, fn func(ms int64, cells []cell)) {
	if d.dense != nil {
		fn(base+lo*BucketMs, d.dense[lo:hi])
		return
	}
	for k, b := range d.idx {
		if i := int64(b); i >= lo && i < hi {
			fn(base+i*BucketMs, d.cells[k:k+1])
		}
	}
}

// blockDays is how many consecutive days share a block of day slots.
const blockDays = 256

// dayBlock holds the days of blockDays consecutive day numbers.
type dayBlock [blockDays]*day

// Aggregate keeps live counters in 15-minute buckets so that every
// start-based statistic, the heatmap and the active time per day are read
// without looking at single sessions. Not safe for concurrent use: an
// aggregator actor owns it.
//
// Days sit in blocks of blockDays by day number, the blocks in a list by
// block number: a day is found with one search over the few blocks, and
// days arriving in any order never move the others (a sorted list of
// days would be moved on every new day before the last).
type Aggregate struct {
	blockNums []int64     // block numbers present, ascending
	blocks    []*dayBlock // in the order of blockNums
	last      *day        // the day of the previous cell call, and its number
	lastNum   int64
	// long are the active intervals longer than longMs: they are not
	// spread over buckets (a session left open for years would make
	// millions of them) but split at local midnights when read.
	long []span
}

// span is an active interval [from, to) in Unix ms of the session started
// at start.
type span struct{ start, from, to int64 }

// longMs is the length from which an interval is kept whole.
const longMs = 2 * dayMs

// NewAggregate returns an empty Aggregate.
func NewAggregate() *Aggregate { return &Aggregate{} }

func (a *Aggregate) cell(ms int64) *cell {
	dn := floorDiv(ms, dayMs)
	return a.day(dn).cell(int((ms - dn*dayMs) / BucketMs))
}

// day returns day number dn, adding it.
func (a *Aggregate) day(dn int64) *day {
	if a.last != nil && a.lastNum == dn { // the usual case: today
		return a.last
	}
	bn := floorDiv(dn, blockDays)
	k, found := slices.BinarySearch(a.blockNums, bn)
	if !found {
		a.blockNums = slices.Insert(a.blockNums, k, bn)
		a.blocks = slices.Insert(a.blocks, k, new(dayBlock))
	}
	slot := &a.blocks[k][dn-bn*blockDays]
	if *slot == nil {
		*slot = &day{}
	}
	a.last, a.lastNum = *slot, dn
	return *slot
}

// eachPresentDay calls fn, in order, for every day present whose number
// lies in [fromDay, toDay].
func (a *Aggregate) eachPresentDay(fromDay, toDay int64, fn func(dn int64, d *day)) {
	first, _ := slices.BinarySearch(a.blockNums, floorDiv(fromDay, blockDays))
	for k := first; k < len(a.blockNums); k++ {
		base := a.blockNums[k] * blockDays
		if base > toDay {
			return
		}
		lo, hi := max(fromDay-base, 0), min(toDay-base, blockDays-1)
		for slot := lo; slot <= hi; slot++ {
			if d := a.blocks[k][slot]; d != nil {
				fn(base+slot, d)
			}
		}
	}
}

// AddStart counts a session started at start.
func (a *Aggregate) AddStart(start int64) { a.cell(start).starts++ }

// AddInterval adds the closed active interval [from, to] of the session
// started at start: to that session's start bucket, and to every bucket the
// interval covers, split at the bucket edges.
func (a *Aggregate) AddInterval(start, from, to int64) {
	if to <= from {
		return
	}
	a.cell(start).activeMs += to - from
	if to-from > longMs {
		a.long = append(a.long, span{start, from, to})
		return
	}
	for from < to {
		bucket := floorDiv(from, BucketMs)
		end := min((bucket+1)*BucketMs, to)
		a.cell(from).occMs += end - from
		// Looked up again: adding a cell may have moved the start's.
		a.cell(start).addAct(bucket, end-from)
		from = end
	}
}

// AddEnd counts the end of the session started at start with active time
// activeMs.
func (a *Aggregate) AddEnd(start, activeMs int64) {
	c := a.cell(start)
	addEnded(&c.ended, &c.endedMs, &c.shortest, &c.longest, 1, activeMs, activeMs, activeMs)
}

// addSession counts what session s has done so far: its start, its
// closed active intervals and, when it has ended, its end.
func (a *Aggregate) addSession(s *session.Session) {
	a.AddStart(s.Start)
	s.EachInterval(func(from, to int64) { a.AddInterval(s.Start, from, to) })
	if s.Status == session.Ended {
		a.AddEnd(s.Start, s.ActiveMs())
	}
}

// addEnded folds n ended sessions — their active time sum, the shortest lo
// and the longest hi — into a running count, total, shortest and longest.
func addEnded(count, total, shortest, longest *int64, n, sum, lo, hi int64) {
	if n == 0 {
		return
	}
	if *count == 0 || lo < *shortest {
		*shortest = lo
	}
	if *count == 0 || hi > *longest {
		*longest = hi
	}
	*count += n
	*total += sum
}

// eachCell calls fn for every bucket whose start lies in [from, to), in
// time order, with the bucket's start time.
func (a *Aggregate) eachCell(from, to int64, fn func(ms int64, c *cell)) {
	a.eachDay(from, to, func(ms int64, cells []cell) {
		for i := range cells {
			fn(ms+int64(i)*BucketMs, &cells[i])
		}
	})
}

// eachDay calls fn, in time order, for every day's run of buckets whose
// starts lie in [from, to), with the first bucket's start time.
func (a *Aggregate) eachDay(from, to int64, fn func(ms int64, cells []cell)) {
	if from >= to {
		return
	}
	a.eachPresentDay(floorDiv(from, dayMs), floorDiv(to-1, dayMs), func(dn int64, d *day) {
		base := dn * dayMs
		lo, hi := int64(0), int64(bucketsDay)
		if from > base { // (compared, not subtracted: the bounds may be ±∞)
			lo = (from - base + BucketMs - 1) / BucketMs
		}
		if to < base+dayMs {
			hi = (to - base + BucketMs - 1) / BucketMs
		}
		if lo < hi {
			d.each(base, lo, hi, fn)
		}
	})
}

// DayCount is a number for one local day.
type DayCount struct {
	Day   int64 // local days since 1970-01-01; see DateString
	Count int64
}

// Starts are the start-based figures of a range: everything heatmap,
// most-active, stats and summary answer with.
type Starts struct {
	Sessions, Ended int64
	ActiveMs        int64 // closed active time of every selected session
	EndedMs         int64 // active time of the ended ones
	ShortestMs      int64 // valid when Ended > 0
	LongestMs       int64 // valid when Ended > 0
	Daily           []DayCount
	Grid            [7][24]int64 // weekday (Monday 0) × hour
}

// Starts sums the start-based counters of the buckets in r. r must be
// bucket-aligned (see Range.inner); the caller adds the sessions of cut buckets.
// ok is false when r's zone is off the 15-minute grid in the buckets'
// span (see zoneClock.odd): the caller must then look at the sessions.
func (a *Aggregate) Starts(r Range) (st Starts, ok bool) {
	zc := newZoneClock(r.Loc)
	a.eachDay(r.From, r.To, func(ms int64, cells []cell) {
		if off, ok := zc.steady(ms, len(cells)); ok {
			st.addRun(ms+off, cells) // one offset over the whole run
			return
		}
		for i := range cells {
			if cells[i].starts != 0 {
				st.add(zc, ms+int64(i)*BucketMs, &cells[i])
			}
		}
	})
	return st, !zc.odd
}

// merge adds o, the figures of other sessions, to st.
func (st *Starts) merge(o Starts) {
	st.Sessions += o.Sessions
	st.ActiveMs += o.ActiveMs
	addEnded(&st.Ended, &st.EndedMs, &st.ShortestMs, &st.LongestMs, o.Ended, o.EndedMs, o.ShortestMs, o.LongestMs)
	for wd := range st.Grid {
		for h := range st.Grid[wd] {
			st.Grid[wd][h] += o.Grid[wd][h]
		}
	}
	for _, d := range o.Daily {
		st.Daily = appendDay(st.Daily, d)
	}
}

// addRun adds consecutive cells under one zone offset, the first starting
// at local (local ms, on the bucket grid): the slot of each cell follows
// from the previous one without a calendar computation.
func (st *Starts) addRun(local int64, cells []cell) {
	day := floorDiv(local, dayMs)
	wd := int(((day+unixEpochDow)%7 + 7) % 7)
	inDay := local - day*dayMs
	var count int64 // sessions started on day
	for i := range cells {
		if c := &cells[i]; c.starts != 0 {
			st.Grid[wd][inDay/hourMs] += c.starts
			st.Sessions += c.starts
			st.ActiveMs += c.activeMs
			count += c.starts
			addEnded(&st.Ended, &st.EndedMs, &st.ShortestMs, &st.LongestMs, c.ended, c.endedMs, c.shortest, c.longest)
		}
		if inDay += BucketMs; inDay == dayMs { // local midnight
			st.Daily = appendDay(st.Daily, DayCount{Day: day, Count: count})
			day, wd, inDay, count = day+1, (wd+1)%7, 0, 0
		}
	}
	st.Daily = appendDay(st.Daily, DayCount{Day: day, Count: count})
}

func (st *Starts) add(zc *zoneClock, ms int64, c *cell) {
	if c.starts == 0 {
		return
	}
	s := zc.slot(ms)
	st.Sessions += c.starts
	st.ActiveMs += c.activeMs
	st.Grid[s.Weekday][s.Hour] += c.starts
	st.Daily = appendDay(st.Daily, DayCount{Day: s.Day, Count: c.starts})
	addEnded(&st.Ended, &st.EndedMs, &st.ShortestMs, &st.LongestMs, c.ended, c.endedMs, c.shortest, c.longest)
}

// DailyActive is the active time per local day of r's zone, from the
// buckets in [r.From, r.To), days with none left out.
func (a *Aggregate) DailyActive(r Range) (out []DayCount, ok bool) {
	zc := newZoneClock(r.Loc)
	defer func() { ok = !zc.odd }()
	a.eachDay(r.From, r.To, func(ms int64, cells []cell) {
		off, steady := zc.steady(ms, len(cells))
		if !steady {
			for i := range cells { // the offset changes within the run
				if c := &cells[i]; c.occMs != 0 {
					out = appendDay(out, DayCount{Day: zc.localDay(ms + int64(i)*BucketMs), Count: c.occMs})
				}
			}
			return
		}
		// One offset over the run: step through local time (see addRun).
		local := ms + off
		d := floorDiv(local, dayMs)
		inDay, sum := local-d*dayMs, int64(0)
		for i := range cells {
			sum += cells[i].occMs
			if inDay += BucketMs; inDay == dayMs {
				out = appendDay(out, DayCount{Day: d, Count: sum})
				d, inDay, sum = d+1, 0, 0
			}
		}
		out = appendDay(out, DayCount{Day: d, Count: sum})
	})
	for _, sp := range a.long {
		out = splitDays(out, zc, sp.from, sp.to)
	}
	return out, !zc.odd
}

// StartedActive is the active time per local day of r's zone of the
// sessions started in r, days with none left out. r must be
// bucket-aligned; ok is false as for Starts.
func (a *Aggregate) StartedActive(r Range) (out []DayCount, ok bool) {
	zc := newZoneClock(r.Loc)
	a.eachCell(r.From, r.To, func(_ int64, c *cell) {
		for _, o := range c.act {
			out = appendDay(out, DayCount{Day: zc.localDay(o.bucket * BucketMs), Count: o.ms})
		}
	})
	for _, sp := range a.long {
		if r.Contains(sp.start) {
			out = splitDays(out, zc, sp.from, sp.to)
		}
	}
	return out, !zc.odd
}

// splitDays adds [from, to) to days, split at the local midnights of zc.
func splitDays(days []DayCount, zc *zoneClock, from, to int64) []DayCount {
	for from < to {
		end := min(zc.nextDayStart(from), to)
		days = appendDay(days, DayCount{Day: zc.localDay(from), Count: end - from})
		from = end
	}
	return days
}

// appendDay adds dc to days, which is kept ascending: where a zone's clock
// goes back over midnight, a day may come round a second time. Days come
// mostly in order, so the last one is tried first; a zero count adds no
// day.
func appendDay(days []DayCount, dc DayCount) []DayCount {
	if dc.Count == 0 {
		return days
	}
	if n := len(days); n > 0 && days[n-1].Day == dc.Day {
		days[n-1].Count += dc.Count
		return days
	}
	i, found := slices.BinarySearchFunc(days, dc.Day, func(e DayCount, d int64) int {
		return cmp.Compare(e.Day, d)
	})
	if found {
		days[i].Count += dc.Count
		return days
	}
	return slices.Insert(days, i, dc)
}
