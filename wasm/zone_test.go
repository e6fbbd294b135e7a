package wasm

import (
	"testing"
	"time"
)

func TestZoneName(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	t.Setenv("TZ", "America/New_York")
	tests := []struct {
		loc  *time.Location
		want string
	}{
		{nil, "America/New_York"},
		{time.Local, "America/New_York"},
		{time.UTC, "UTC"},
		{berlin, "Europe/Berlin"},
	}
	for _, tt := range tests {
		if got := zoneName(tt.loc); got != tt.want {
			t.Errorf("zoneName(%v) = %q, want %q", tt.loc, got, tt.want)
		}
	}
	for tz, want := range map[string]string{"": "UTC", ":Asia/Tokyo": "Asia/Tokyo", "/usr/share/zoneinfo/Europe/Paris": "Europe/Paris", "/etc/custom": "UTC"} {
		t.Setenv("TZ", tz)
		if got := localZoneName(); got != want {
			t.Errorf("TZ=%q: localZoneName() = %q, want %q", tz, got, want)
		}
	}
}
