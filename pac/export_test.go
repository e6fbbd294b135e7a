package pac_test

import (
	"net/url"
	"testing"
)

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// corpusDir is the shared PAC corpus, testdata/pac at the repository's
// root, as seen from this package.
const corpusDir = "../testdata/pac"
