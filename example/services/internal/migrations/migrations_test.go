package migrations

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadOrdersNumerically(t *testing.T) {
	fsys := fstest.MapFS{
		"10_ten.sql":  {Data: []byte("SELECT 10")},
		"2_two.sql":   {Data: []byte("SELECT 2")},
		"0001_a.sql":  {Data: []byte("SELECT 1")},
		"README.md":   {Data: []byte("ignored")},
		"sub/3_x.sql": {Data: []byte("ignored: not at the root")},
	}
	got, err := Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range got {
		names = append(names, m.Name)
	}
	if want := "0001_a.sql,2_two.sql,10_ten.sql"; strings.Join(names, ",") != want {
		t.Fatalf("order = %v, want %s", names, want)
	}
}

func TestLoadRejectsDuplicateVersions(t *testing.T) {
	_, err := Load(fstest.MapFS{"1_a.sql": {}, "001_b.sql": {}})
	if err == nil || !strings.Contains(err.Error(), "share version 1") {
		t.Fatalf("err = %v, want duplicate version error", err)
	}
}

func TestLoadRejectsBadNames(t *testing.T) {
	if _, err := Load(fstest.MapFS{"create.sql": {}}); err == nil {
		t.Fatal("expected an error for a name without a version prefix")
	}
}

func TestPendingSkipsApplied(t *testing.T) {
	all := []Migration{{Version: 1, Name: "1"}, {Version: 2, Name: "2"}, {Version: 3, Name: "3"}}
	got := Pending(all, map[int64]bool{1: true, 3: true})
	if len(got) != 1 || got[0].Version != 2 {
		t.Fatalf("pending = %+v, want only version 2", got)
	}
	if len(Pending(all, map[int64]bool{1: true, 2: true, 3: true})) != 0 {
		t.Fatal("nothing should be pending when all are applied")
	}
}

func TestEmbeddedMigrations(t *testing.T) {
	got, err := Load(Embedded())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "0001_create_greetings.sql" || got[1].Name != "0002_create_items.sql" {
		t.Fatalf("embedded migrations = %+v", got)
	}
	if !strings.Contains(got[0].SQL, "hello from the database") {
		t.Fatal("greetings seed row missing")
	}
}
