package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
)

// day is the unit "d" that every duration flag accepts on top of Go's.
const day = 24 * time.Hour

// errDuration is what a malformed duration gets: it is appended to the
// flag package's `invalid value "x" for flag --name: `.
var errDuration = errors.New("use a duration such as 90m, 36h, 2d or 1d12h (units d, h, m, s, ms)")

// parseDuration parses a Go duration (time.ParseDuration: 90m, 1h30m,
// 1.5h) that may start with a number of days: 2d, 1d12h, 0.5d. Days come
// first, as in 1d12h, and are exactly 24 hours.
func parseDuration(s string) (time.Duration, error) {
	rest, neg := s, false
	if rest != "" && (rest[0] == '-' || rest[0] == '+') {
		neg, rest = rest[0] == '-', rest[1:]
	}
	var days time.Duration
	hasDays := false
	if i := strings.IndexByte(rest, 'd'); i >= 0 {
		n, err := decimal(rest[:i])
		if err != nil || n*float64(day) >= math.MaxInt64 {
			return 0, errDuration
		}
		days, rest, hasDays = time.Duration(n*float64(day)), rest[i+1:], true
	}
	var d time.Duration
	switch {
	case rest == "" && !hasDays:
		return 0, errDuration // "" or a lone sign
	case rest == "":
	case rest[0] == '-' || rest[0] == '+':
		return 0, errDuration // 1d-2h
	default:
		var err error
		if d, err = time.ParseDuration(rest); err != nil {
			return 0, errDuration
		}
	}
	if d > math.MaxInt64-days {
		return 0, errDuration
	}
	d += days
	if neg {
		d = -d
	}
	return d, nil
}

// decimal parses the number of days: digits with at most one '.', no
// exponent, sign or hexadecimal (which strconv.ParseFloat would accept).
func decimal(s string) (float64, error) {
	if s == "" || s == "." || strings.Count(s, ".") > 1 || strings.Trim(s, "0123456789.") != "" {
		return 0, errDuration
	}
	return strconv.ParseFloat(s, 64)
}

// durationValue is a flag.Value for a time.Duration set with
// parseDuration. Its String is time.Duration's, which urfave/cli's
// Context.Duration parses back.
type durationValue struct{ d *time.Duration }

// Set parses s with parseDuration.
func (v durationValue) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return err
	}
	*v.d = d
	return nil
}

// String returns the duration as Go writes it (48h0m0s for 2d).
func (v durationValue) String() string {
	if v.d == nil {
		return ""
	}
	return v.d.String()
}

// Get returns the time.Duration, for Context.Value.
func (v durationValue) Get() any { return *v.d }

// dayDurationFlag is a cli.DurationFlag that also accepts days (2d,
// 1d12h): everything but parsing is the DurationFlag's, so help, the
// reference, Context.Duration, IsSet and Value work unchanged.
type dayDurationFlag struct{ *cli.DurationFlag }

// Apply registers the flag's names on set with a day-aware value; a
// value from the flag's environment variables is parsed the same way.
func (f dayDurationFlag) Apply(set *flag.FlagSet) error {
	if v, ok := lookupEnv(f.EnvVars); ok && v != "" {
		d, err := parseDuration(v)
		if err != nil {
			return fmt.Errorf("could not parse %q as duration value for flag %s: %w", v, f.Name, err)
		}
		f.Value, f.HasBeenSet = d, true
	}
	dest := f.Destination
	if dest == nil {
		dest = new(time.Duration)
	}
	*dest = f.Value
	for _, name := range f.Names() {
		set.Var(durationValue{dest}, name, f.Usage)
	}
	return nil
}

// lookupEnv returns the value of the first of names that is set.
func lookupEnv(names []string) (string, bool) {
	for _, n := range names {
		if v, ok := os.LookupEnv(strings.TrimSpace(n)); ok {
			return v, true
		}
	}
	return "", false
}

// acceptDays makes every duration flag of flags accept days, in place.
// newApp applies it to every command, so a duration flag added to any
// command later gets it too (TestEveryDurationFlagAcceptsDays).
func acceptDays(flags []cli.Flag) {
	for i, f := range flags {
		if d, ok := f.(*cli.DurationFlag); ok {
			flags[i] = dayDurationFlag{d}
		}
	}
}
