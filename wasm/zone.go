package wasm

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// zoneName returns the IANA name of loc that the module's pac_load
// takes: the guest has its own copy of the time zone database, and
// knows zones only by name. nil and time.Local, as in package pac, mean
// the machine's zone, whose name comes from $TZ or the /etc/localtime
// link; a machine whose zone has no name found that way (Windows, a
// copied /etc/localtime) gets UTC.
func zoneName(loc *time.Location) string {
	if loc == nil {
		loc = time.Local
	}
	switch name := loc.String(); {
	case loc == time.UTC:
		return "UTC"
	case name == "Local":
		return localZoneName()
	default:
		return name
	}
}

func localZoneName() string {
	if tz, ok := os.LookupEnv("TZ"); ok {
		tz = strings.TrimPrefix(tz, ":")
		switch {
		case tz == "":
			return "UTC"
		case filepath.IsAbs(tz):
			return zoneFromPath(tz)
		}
		return tz
	}
	if p, err := os.Readlink("/etc/localtime"); err == nil {
		return zoneFromPath(p)
	}
	return "UTC"
}

// zoneFromPath turns a zoneinfo file's path into the zone's name:
// /usr/share/zoneinfo/Europe/Berlin is Europe/Berlin.
func zoneFromPath(p string) string {
	p = filepath.ToSlash(p)
	if i := strings.LastIndex(p, "zoneinfo/"); i >= 0 {
		return p[i+len("zoneinfo/"):]
	}
	return "UTC"
}
