package cib

import (
	"strconv"
	"strings"
)

// DurationMS reads a Pacemaker duration ("10s", "1min", "500ms", "PT10S",
// bare seconds) into milliseconds; 0 for "", -1 if unreadable. Intervals,
// timeouts and failure-timeout use it.
func DurationMS(s string) int64 {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" {
		return 0
	}
	if strings.HasPrefix(s, "pt") || strings.HasPrefix(s, "p") {
		return parseISODuration(s)
	}
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	v, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return -1
	}
	mult := 1000.0
	switch strings.TrimSpace(s[i:]) {
	case "", "s", "sec", "secs":
	case "ms", "msec", "msecs":
		mult = 1
	case "us", "usec", "usecs":
		mult = 0.001
	case "m", "min", "mins":
		mult = 60000
	case "h", "hr", "hrs":
		mult = 3600000
	default:
		return -1
	}
	return int64(v * mult)
}

func parseISODuration(s string) int64 {
	var total int64
	num := ""
	inTime := false
	for _, c := range strings.TrimPrefix(s, "p") {
		switch {
		case c == 't':
			inTime = true
		case c >= '0' && c <= '9':
			num += string(c)
		default:
			v, _ := strconv.ParseInt(num, 10, 64)
			num = ""
			switch {
			case c == 'd':
				total += v * 86400000
			case c == 'h':
				total += v * 3600000
			case c == 'm' && inTime:
				total += v * 60000
			case c == 's':
				total += v * 1000
			}
		}
	}
	return total
}
