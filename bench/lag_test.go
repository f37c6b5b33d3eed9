package bench

import (
	"testing"
	"time"
)

func TestLagStats(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	// at builds a sample sent at ms and answered 2 ms later.
	at := func(ms int, journal, applied uint64) lagSample {
		sent := t0.Add(time.Duration(ms) * time.Millisecond)
		return lagSample{sent: sent, received: sent.Add(2 * time.Millisecond), journal: journal, applied: applied}
	}
	tests := []struct {
		name    string
		samples []lagSample
		fromMS  int // the measured window's start
		want    ReadModelLag
	}{
		{name: "no samples", want: ReadModelLag{}},
		{
			name:    "never behind",
			samples: []lagSample{at(0, 10, 10), at(50, 20, 20), at(100, 30, 30)},
			want:    ReadModelLag{Samples: 3},
		},
		{
			// At 100 the read model is at 10: event 11 was appended after
			// the sample at 0 (journal 10), so it waited under 102 ms.
			name:    "one sample behind",
			samples: []lagSample{at(0, 10, 10), at(50, 20, 20), at(100, 30, 10), at(150, 30, 30)},
			want:    ReadModelLag{Samples: 4, MaxEvents: 20, MaxMS: 102, P99MS: 102},
		},
		{
			// The read model stuck at 15 while the journal went from 10 to
			// 40: the last sample at or below 15 is the one at 0.
			name:    "stuck read model",
			samples: []lagSample{at(0, 10, 10), at(50, 20, 15), at(100, 30, 15), at(150, 40, 15), at(200, 40, 40)},
			want:    ReadModelLag{Samples: 5, MaxEvents: 25, MaxMS: 152, P99MS: 152},
		},
		{
			// The read model moves, but never catches up: each sample's
			// lag counts from the last sample whose journal it has passed.
			name:    "moving behind",
			samples: []lagSample{at(0, 0, 0), at(50, 100, 0), at(100, 200, 100), at(150, 300, 150), at(200, 400, 250)},
			// lags: 0; 52 (since 0); 52 (since 50: journal 100 <= 100);
			// 102 (since 50: journal 200 > 150); 102 (since 100).
			want: ReadModelLag{Samples: 5, MaxEvents: 150, MaxMS: 102, P99MS: 102},
		},
		{
			// Warm-up samples are history only: the lag at 100 counts
			// from 0, but the sample at 50 (behind) is not counted.
			name:    "warm-up is history",
			samples: []lagSample{at(0, 10, 10), at(50, 500, 10), at(100, 600, 10)},
			fromMS:  100,
			want:    ReadModelLag{Samples: 1, MaxEvents: 590, MaxMS: 102, P99MS: 102},
		},
		{
			// Behind at the first sample: nothing earlier bounds it, so
			// the lag counts from the first sample.
			name:    "behind from the start",
			samples: []lagSample{at(0, 50, 10), at(50, 60, 20)},
			want:    ReadModelLag{Samples: 2, MaxEvents: 40, MaxMS: 52, P99MS: 52},
		},
		{
			// A journal figure that went back does not make a later
			// sample look fresher than an earlier one showed.
			name:    "journal never goes back",
			samples: []lagSample{at(0, 10, 10), at(50, 30, 10), at(100, 10, 10), at(150, 40, 11)},
			want:    ReadModelLag{Samples: 4, MaxEvents: 29, MaxMS: 152, P99MS: 152},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := lagStats(tt.samples, t0.Add(time.Duration(tt.fromMS)*time.Millisecond))
			if got != tt.want {
				t.Errorf("lagStats = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestLagStatsP99(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	// 100 samples 10 ms apart, all caught up but two: the 99th percentile
	// of 100 values is the 99th, the smaller of the two lags.
	var samples []lagSample
	for i := range 100 {
		s := lagSample{sent: t0.Add(time.Duration(i) * 10 * time.Millisecond), journal: uint64(i), applied: uint64(i)}
		s.received = s.sent
		switch i {
		case 50:
			s.applied = 48 // the last sample at or below 48 was sent at 480 ms
		case 80:
			s.applied = 70 // at or below 70: the one at 700 ms
		}
		samples = append(samples, s)
	}
	got := lagStats(samples, t0)
	want := ReadModelLag{Samples: 100, MaxEvents: 10, MaxMS: 100, P99MS: 20}
	if got != want {
		t.Errorf("lagStats = %+v, want %+v", got, want)
	}
}

func TestNearestRank(t *testing.T) {
	for _, tt := range []struct{ n, permille, want int }{
		{1, 990, 0}, {2, 990, 1}, {100, 990, 98}, {101, 990, 99}, {200, 990, 197}, {1000, 500, 499},
	} {
		if got := nearestRank(tt.n, tt.permille); got != tt.want {
			t.Errorf("nearestRank(%d, %d) = %d, want %d", tt.n, tt.permille, got, tt.want)
		}
	}
}
