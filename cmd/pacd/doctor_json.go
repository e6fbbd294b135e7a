package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/pacd/pacd/resolver"
)

// The JSON form of pacd doctor's report.

type doctorClause struct {
	ID      string `json:"id"`
	Text    string `json:"text"`
	Subject string `json:"subject,omitempty"`
}

type doctorAnswer struct {
	Flavor  string         `json:"flavor"`
	Verdict string         `json:"verdict"`
	PAC     string         `json:"pac,omitempty"`
	Source  string         `json:"source,omitempty"`
	Rule    string         `json:"rule,omitempty"`
	Error   string         `json:"error,omitempty"`
	Clauses []doctorClause `json:"clauses,omitempty"`
}

type doctorDifference struct {
	Flavors []string     `json:"flavors"`
	Clause  doctorClause `json:"clause"`
}

type doctorURL struct {
	URL         string             `json:"url"`
	Agree       bool               `json:"agree"`
	Answers     []doctorAnswer     `json:"answers"`
	Differences []doctorDifference `json:"differences,omitempty"`
}

type doctorReport struct {
	Environment   []string       `json:"environment"`
	Flavors       []string       `json:"flavors"`
	URLs          []doctorURL    `json:"urls"`
	Disagreements int            `json:"disagreements"`
	Changes       []doctorChange `json:"changes,omitempty"`
	StillDisagree []string       `json:"still_disagree,omitempty"`
}

func doctorClauses(cs []resolver.Clause) []doctorClause {
	var out []doctorClause
	for _, c := range cs {
		out = append(out, doctorClause{c.ID, c.Text, c.Subject})
	}
	return out
}

func (d *doctor) printJSON(w io.Writer, environ []string, r *doctorRun, changes []doctorChange, after *doctorRun) error {
	j := doctorReport{Environment: []string{}, Disagreements: r.disagreements(), Changes: changes}
	for _, kv := range environ {
		j.Environment = append(j.Environment, redactEnv(kv))
	}
	for _, f := range d.flavors {
		j.Flavors = append(j.Flavors, f.String())
	}
	for i, u := range d.urls {
		ju := doctorURL{URL: u.Redacted(), Agree: r.agrees(i)}
		for k, c := range r.cells[i] {
			a := doctorAnswer{Flavor: d.flavors[k].String(), Verdict: c.verdict, Clauses: doctorClauses(c.clauses)}
			if c.err != nil {
				a.Error = c.err.Error()
			} else {
				a.PAC, a.Source, a.Rule = c.decision.String(), c.decision.Source.String(), c.decision.Rule
			}
			ju.Answers = append(ju.Answers, a)
		}
		for _, df := range d.differences(r, i) {
			var names []string
			for _, f := range df.flavors {
				names = append(names, f.String())
			}
			ju.Differences = append(ju.Differences, doctorDifference{names, doctorClause{df.clause.ID, df.clause.Text, df.clause.Subject}})
		}
		j.URLs = append(j.URLs, ju)
	}
	for i, u := range d.urls {
		if after != nil && !after.agrees(i) && len(changes) > 0 {
			j.StillDisagree = append(j.StillDisagree, u.Redacted())
		}
	}
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s\n", b)
	if j.Disagreements > 0 {
		return &exitError{1}
	}
	return nil
}
