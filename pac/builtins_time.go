package pac

import (
	"math"
	"time"

	"github.com/dop251/goja"
)

// The time built-ins follow the JavaScript that Chromium and Firefox share
// (Mozilla's 2018 rewrite): ranges wrap around (weekdayRange("SAT",
// "MON"), dateRange("DEC", "FEB"), timeRange(22, 0, 6, 0)), names are upper
// case only, and a last argument "GMT" selects UTC. They read the clock
// once per evaluation (Options.Now) in Options.Location.
//
// One deliberate difference: with "GMT", the browsers compare the UTC time
// of day against bounds built on the *local* date, so that on a machine
// whose local date differs from the UTC date (evenings west of Greenwich,
// mornings east of it) a GMT range answers wrongly; in zones with a
// half-hour offset their copying of UTC fields goes wrong as well. Here a
// GMT range is evaluated entirely in UTC, which is what its author meant
// and what does not depend on where the script runs. Without "GMT" the
// answers are the browsers'.
//
// Odd arguments behave as the browsers' JavaScript makes them behave,
// quirks included: the bounds of dateRange are built with the Date setters
// in argument order, so an end bound of a month without a day starts from
// December 31 and dateRange("JAN", "FEB") ends on "February 31", that is
// March 3 (or 2); unknown names make dateRange count from the month before
// January, and make weekdayRange false.

func installTime(st *evalState) {
	gmt := st.vm.ToValue("GMT")
	// isGMT is the browsers' test arguments[argc-1] == 'GMT', a loose
	// equality: only a string, or an object that converts to one, can
	// be equal to it.
	isGMT := func(args []goja.Value) bool {
		if len(args) == 0 {
			return false
		}
		switch v := args[len(args)-1].(type) {
		case goja.String:
			return v.String() == "GMT"
		case *goja.Object:
			return v.Equals(gmt)
		}
		return false
	}

	// weekdayRange(wd1 [, wd2] [, "GMT"]) reports whether today is wd1, or
	// between wd1 and wd2 inclusive, wrapping past Saturday.
	st.define("weekdayRange", 0, func(call goja.FunctionCall) goja.Value {
		args := call.Arguments
		argc := len(args)
		if argc < 1 {
			return st.vFalse
		}
		now := st.now()
		if isGMT(args) {
			argc--
			now = now.UTC()
		}
		wday := float64(now.Weekday())
		wd1 := weekdayNumber(args[0])
		wd2 := wd1
		if argc == 2 {
			wd2 = weekdayNumber(args[1])
		}
		if wd1 == -1 || wd2 == -1 {
			return st.vFalse
		}
		return st.bool(inRange(wd1, wday, wd2))
	})

	// dateRange(...) reports whether today is in a range of days, months
	// and years; see dateRange below.
	st.define("dateRange", 0, func(call goja.FunctionCall) goja.Value {
		args := call.Arguments
		if len(args) < 1 {
			return st.vFalse
		}
		now := st.now()
		if isGMT(args) {
			args = args[:len(args)-1]
			now = now.UTC()
		}
		return st.bool(dateRange(now, args))
	})

	// timeRange(...) reports whether the time of day is in a range; see
	// timeRange below.
	st.define("timeRange", 0, func(call goja.FunctionCall) goja.Value {
		args := call.Arguments
		if len(args) < 1 {
			return st.vFalse
		}
		now := st.now()
		if isGMT(args) {
			args = args[:len(args)-1]
			now = now.UTC()
		}
		switch len(args) {
		case 1:
			return st.bool(st.vm.ToValue(now.Hour()).Equals(args[0]))
		case 2:
			h := float64(now.Hour())
			return st.bool(toNumber(args[0]) <= h && h <= toNumber(args[1]))
		case 4, 6:
			return st.bool(timeRange(now, args))
		}
		panic(st.vm.ToValue("timeRange: bad number of arguments"))
	})
}

// inRange reports whether lo <= x <= hi, or, when lo > hi, whether x is
// outside (hi, lo): the browsers' wrap-around test. Any NaN makes every
// comparison false, as in JavaScript.
func inRange(lo, x, hi float64) bool {
	if lo <= hi {
		return lo <= x && x <= hi
	}
	return hi >= x || x >= lo
}

// protoNames are the properties of Object.prototype: the browsers look
// day and month names up with the `in` operator, which finds these too,
// and then compute with a function, which behaves as NaN.
var protoNames = map[string]bool{
	"constructor": true, "hasOwnProperty": true, "isPrototypeOf": true,
	"propertyIsEnumerable": true, "toLocaleString": true, "toString": true,
	"valueOf": true, "__proto__": true, "__defineGetter__": true,
	"__defineSetter__": true, "__lookupGetter__": true, "__lookupSetter__": true,
}

var weekdays = map[string]float64{"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}

var months = map[string]float64{
	"JAN": 0, "FEB": 1, "MAR": 2, "APR": 3, "MAY": 4, "JUN": 5,
	"JUL": 6, "AUG": 7, "SEP": 8, "OCT": 9, "NOV": 10, "DEC": 11,
}

// nameNumber looks v up in names as the browsers' getDay and getMonth do:
// the number of a known name, -1 for an unknown one.
func nameNumber(names map[string]float64, v goja.Value) float64 {
	k := v.String()
	if n, ok := names[k]; ok {
		return n
	}
	if protoNames[k] {
		return math.NaN()
	}
	return -1
}

func weekdayNumber(v goja.Value) float64 { return nameNumber(weekdays, v) }
func monthNumber(v goja.Value) float64   { return nameNumber(months, v) }

// dateRange is the browsers' dateRange for now (in the zone to use) and
// the arguments without "GMT".
//
// With one argument it compares one field: a month name, a day (a number
// under 32) or a year. With more, the first half of the arguments sets
// fields of a start bound that begins as January 1, 00:00:00 of this
// year, and the second half fields of an end bound that begins as
// December 31, 23:59:59; with exactly two arguments of which the first is
// a day, both bounds are moved to the current month. Fields are set in
// argument order with the Date setters' carrying (a 31st of a short month
// is the first days of the next).
func dateRange(now time.Time, args []goja.Value) bool {
	argc := len(args)
	if argc == 1 {
		tmp := jsParseInt(args[0].String())
		switch {
		case math.IsNaN(tmp):
			return float64(now.Month()-1) == monthNumber(args[0])
		case tmp < 32:
			return float64(now.Day()) == tmp
		default:
			return float64(now.Year()) == tmp
		}
	}
	loc := now.Location()
	year := float64(now.Year())
	d1 := makeDate(loc, year, 0, 1, 0)
	d2 := makeDate(loc, year, 11, 31, (23*3600+59*60+59)*1000)
	adjustMonth := false
	set := func(d jsDate, v goja.Value, first bool) jsDate {
		tmp := jsParseInt(v.String())
		switch {
		case math.IsNaN(tmp):
			return d.setMonth(monthNumber(v))
		case tmp < 32:
			if first {
				adjustMonth = argc <= 2
			}
			return d.setDate(tmp)
		default:
			return d.setFullYear(tmp)
		}
	}
	for i := 0; i < argc>>1; i++ {
		d1 = set(d1, args[i], true)
	}
	for i := argc >> 1; i < argc; i++ {
		d2 = set(d2, args[i], false)
	}
	if adjustMonth {
		m := float64(now.Month() - 1)
		d1, d2 = d1.setMonth(m), d2.setMonth(m)
	}
	return inRange(d1.t, dateOf(now).t, d2.t)
}

// timeRange is the browsers' timeRange with four (h1, m1, h2, m2) or six
// (h1, m1, s1, h2, m2, s2) arguments, for now in the zone to use. With
// four, the range runs from h1:m1 to the end of minute h2:m2; with six,
// from h1:m1:s1 to h2:m2:s2. Bounds wrap around midnight when the start is
// later than the end. Both bounds are today's date with the given fields
// set by the Date setters, in the browsers' order, so values out of range
// carry (timeRange(0, 0, -1, ...) starts yesterday).
func timeRange(now time.Time, args []goja.Value) bool {
	n := func(i int) float64 { return toNumber(args[i]) }
	date := dateOf(now)
	d1, d2 := date, date
	if len(args) == 6 {
		d1 = d1.setSeconds(n(2))
		d2 = d2.setSeconds(n(5))
		d1 = d1.setHours(n(0)).setMinutes(n(1))
		d2 = d2.setHours(n(3)).setMinutes(n(4))
	} else {
		d1 = d1.setHours(n(0)).setMinutes(n(1))
		d2 = d2.setHours(n(2)).setMinutes(n(3)).setSeconds(59)
	}
	return inRange(d1.t, date.t, d2.t)
}

// A jsDate is a JavaScript Date: a time value in milliseconds since the
// epoch, NaN when invalid, with loc as its local time zone. Its setters
// are the local-time setters of Date.prototype, including how they carry
// out-of-range fields and how they resolve local times that a zone skips
// or repeats.
type jsDate struct {
	t   float64
	loc *time.Location
}

const (
	msPerDay = 86400 * 1000
	maxTime  = 8.64e15 // the largest magnitude a time value may have
)

// dateOf returns t as a Date holds it (milliseconds truncated).
func dateOf(t time.Time) jsDate {
	return jsDate{float64(t.UnixMilli()), t.Location()}
}

// makeDate is new Date(year, month, day) plus tod milliseconds of local
// time: MakeDate(MakeDay(year, month, day), tod) converted from local
// time. Out-of-range fields carry; NaN or a result out of range gives an
// invalid date.
func makeDate(loc *time.Location, year, month, day, tod float64) jsDate {
	return jsDate{utcOf(loc, localValue(year, month, day, tod)), loc}
}

// localValue is MakeDate(MakeDay(year, month, day), tod) in milliseconds
// of local time counted as if it were UTC.
func localValue(year, month, day, tod float64) float64 {
	for _, v := range [...]float64{year, month, day, tod} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return math.NaN()
		}
	}
	year, month, day = math.Trunc(year), math.Trunc(month), math.Trunc(day)
	y := year + math.Floor(month/12)
	if math.Abs(y) > 300000 {
		return math.NaN()
	}
	m := math.Mod(month, 12)
	if m < 0 {
		m += 12
	}
	first := time.Date(int(y), time.Month(m)+1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	t := float64(first) + (day-1)*msPerDay + tod
	if math.Abs(t) > maxTime+msPerDay {
		return math.NaN()
	}
	return t
}

// utcOf converts local, a local time value in loc, to a time value, as
// ECMAScript's UTC(t) does: a local time that occurs twice (when clocks go
// back) is the earlier instant; one that does not occur (when clocks go
// forward) is read with the offset from before the change, which lands
// after it. The result is clipped to the Date range.
func utcOf(loc *time.Location, local float64) float64 {
	if math.IsNaN(local) {
		return local
	}
	offset := func(ms float64) float64 {
		_, off := time.UnixMilli(int64(ms)).In(loc).Zone()
		return float64(off) * 1000
	}
	before, after := offset(local-msPerDay), offset(local+msPerDay)
	t := local - before
	if before != after {
		t1, t2 := local-before, local-after
		ok1, ok2 := offset(t1) == before, offset(t2) == after
		switch {
		case ok1 && ok2:
			t = math.Min(t1, t2)
		case ok2:
			t = t2
		}
	}
	if math.Abs(t) > maxTime {
		return math.NaN()
	}
	return t
}

// local splits a valid date into its local fields: year, month (0-based),
// day, and milliseconds of the day.
func (d jsDate) local() (year, month, day, tod float64) {
	lt := time.UnixMilli(int64(d.t)).In(d.loc)
	tod = float64(((lt.Hour()*60+lt.Minute())*60+lt.Second())*1000 + lt.Nanosecond()/1e6)
	return float64(lt.Year()), float64(lt.Month() - 1), float64(lt.Day()), tod
}

// with returns the date with its local fields replaced by f's result.
func (d jsDate) with(f func(year, month, day, tod float64) (float64, float64, float64, float64)) jsDate {
	if math.IsNaN(d.t) {
		return d
	}
	y, m, day, tod := f(d.local())
	return makeDate(d.loc, y, m, day, tod)
}

func (d jsDate) setMonth(month float64) jsDate {
	return d.with(func(y, _, day, tod float64) (float64, float64, float64, float64) { return y, month, day, tod })
}

func (d jsDate) setDate(day float64) jsDate {
	return d.with(func(y, m, _, tod float64) (float64, float64, float64, float64) { return y, m, day, tod })
}

// setFullYear revives an invalid date, counting from the epoch in local
// time, as Date.prototype.setFullYear does.
func (d jsDate) setFullYear(year float64) jsDate {
	if math.IsNaN(d.t) {
		d.t = utcOf(d.loc, 0)
	}
	return d.with(func(_, m, day, tod float64) (float64, float64, float64, float64) { return year, m, day, tod })
}

// setTime replaces one of the time-of-day fields: unit is the field's
// length in milliseconds (hours, minutes or seconds).
func (d jsDate) setTime(v, unit float64) jsDate {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return jsDate{math.NaN(), d.loc}
	}
	return d.with(func(y, m, day, tod float64) (float64, float64, float64, float64) {
		field := math.Mod(math.Floor(tod/unit), 60)
		if unit == 3600e3 {
			field = math.Floor(tod / unit)
		}
		return y, m, day, tod + (math.Trunc(v)-field)*unit
	})
}

func (d jsDate) setHours(h float64) jsDate   { return d.setTime(h, 3600e3) }
func (d jsDate) setMinutes(m float64) jsDate { return d.setTime(m, 60e3) }
func (d jsDate) setSeconds(s float64) jsDate { return d.setTime(s, 1e3) }
