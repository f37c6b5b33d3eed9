package commands

import (
	"errors"
	"testing"
)

// commandsStart trusts neither the acknowledgement floor nor the stream's
// first sequence past the journal: what neither an event answers nor the
// stream still holds was lost.
func TestCommandsStart(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cs       CommandsState
		lastCmd  uint64
		want     uint64
		lost     [2]uint64 // From, To of the LostCommandsError; zero: none
		renumber bool
	}{
		{name: "fresh", cs: CommandsState{}, want: 0},
		{name: "floor behind the journal", cs: CommandsState{AckFloor: 5, First: 6, Last: 9}, lastCmd: 7, want: 6},
		{name: "floor at the journal", cs: CommandsState{AckFloor: 7, First: 8, Last: 9}, lastCmd: 7, want: 7},
		{name: "first past the journal", cs: CommandsState{AckFloor: 7, First: 10, Last: 12}, lastCmd: 7, lost: [2]uint64{8, 9}},
		// The server moved the floor over a message deleted after it
		// was delivered: acknowledged, yet no event answers it.
		{name: "floor past the journal", cs: CommandsState{AckFloor: 9, First: 8, Last: 12}, lastCmd: 7, lost: [2]uint64{8, 9}},
		{name: "stream renumbered", cs: CommandsState{Last: 3}, lastCmd: 7, renumber: true},
	} {
		got, err := commandsStart(tc.cs, tc.lastCmd)
		var lost *LostCommandsError
		switch {
		case tc.renumber:
			if !errors.Is(err, ErrCommandsRenumbered) {
				t.Errorf("%s: %d, %v; want ErrCommandsRenumbered", tc.name, got, err)
			}
		case tc.lost != [2]uint64{}:
			if !errors.As(err, &lost) || [2]uint64{lost.From, lost.To} != tc.lost {
				t.Errorf("%s: %d, %v; want commands %d to %d lost", tc.name, got, err, tc.lost[0], tc.lost[1])
			}
		case err != nil || got != tc.want:
			t.Errorf("%s: %d, %v; want %d", tc.name, got, err, tc.want)
		}
	}
}
