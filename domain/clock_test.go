package domain

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestClockUnixAgrees: a checked clock's seconds (clock.unix, the posting
// reader's compact time) are time.Date's for every day of the years at
// both ends of the four-digit range and around the epoch, and for random
// instants in between; clock.time is the same instant, and dateDays.unix
// (a date's days kept from one clock to the next, a new date's made) is
// the same seconds.
func TestClockUnixAgrees(t *testing.T) {
	var cache dateDays // the last date's days, carried from check to check
	check := func(c clock) {
		t.Helper()
		want := time.Date(int(c.year), time.Month(c.month), int(c.day), int(c.hour), int(c.minute), int(c.sec), int(c.nsec), time.UTC)
		if got := c.unix(); got != want.Unix() {
			t.Fatalf("%+v: unix %d, time.Date says %d", c, got, want.Unix())
		}
		if got := cache.unix(&c); got != want.Unix() {
			t.Fatalf("%+v: unix from the date before (%+v) %d, time.Date says %d", c, cache, got, want.Unix())
		}
		if got := c.time(); !got.Equal(want) || got.Location() != time.UTC {
			t.Fatalf("%+v: time %v, time.Date says %v", c, got, want)
		}
	}
	days := func(years ...[2]int) {
		for _, r := range years {
			for y := r[0]; y <= r[1]; y++ {
				for m := 1; m <= 12; m++ {
					for d := 1; d <= daysIn(m, y); d++ {
						check(clock{year: int32(y), month: int32(m), day: int32(d)})
						check(clock{year: int32(y), month: int32(m), day: int32(d), hour: 23, minute: 59, sec: 59, nsec: 999_999_999})
					}
				}
			}
		}
	}
	days([2]int{0, 4}, [2]int{96, 104}, [2]int{396, 404}, [2]int{1899, 1901}, [2]int{1968, 2104}, [2]int{9995, 9999})
	r := rand.New(rand.NewPCG(1, 2))
	for range 200_000 {
		y, m := r.IntN(10000), 1+r.IntN(12)
		check(clock{year: int32(y), month: int32(m), day: int32(1 + r.IntN(daysIn(m, y))),
			hour: int32(r.IntN(24)), minute: int32(r.IntN(60)), sec: int32(r.IntN(60)), nsec: int32(r.IntN(1e9))})
	}
}
