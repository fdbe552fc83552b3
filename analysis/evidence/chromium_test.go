package evidence

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// browser returns a headless-capable Chromium, or skips the test when none
// is installed, unless SOC2LS_REQUIRE_CHROMIUM=1 (CI) makes that a failure.
func browser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("SOC2LS_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("SOC2LS_REQUIRE_CHROMIUM=1 but no chromium on PATH (apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); SOC2LS_REQUIRE_CHROMIUM=1 makes this a failure")
	return ""
}

// chromium runs the browser headless on page with args, in a profile of its
// own (tests may run in parallel with a desktop browser).
func chromium(t *testing.T, bin, page string, args ...string) {
	t.Helper()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
		"--user-data-dir=" + t.TempDir(), "--force-device-scale-factor=1"}
	cmd := exec.Command(bin, append(append(base, args...), "file://"+page)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", bin, err, out)
	}
}

// TestChromiumRendering renders the reports of the two example templates in
// headless Chromium: the screenshots must show a real page (many colours,
// ink on a good part of it), the weak template's must show far more of the
// error colour than the baseline's, and printing must give a page per
// criterion. With -update the screenshots become docs/report-weak.png and
// docs/report-baseline.png.
func TestChromiumRendering(t *testing.T) {
	bin := browser(t)
	t.Chdir("../..")
	dir := t.TempDir()
	red := map[string]int{}
	for _, name := range []string{"weak", "baseline"} {
		rep, out, _ := renderHTML(t, "testdata/examples/fintech-"+name+".yaml")
		page := filepath.Join(dir, name+".html")
		if err := os.WriteFile(page, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		shot := filepath.Join(dir, name+".png")
		chromium(t, bin, page, "--window-size=1200,2300", "--screenshot="+shot)
		data, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", shot, err)
		}
		colours, inked, reds := inspect(img)
		b := img.Bounds()
		t.Logf("%s: %dx%d, %d colours, %.1f%% ink, %d error-red pixels", name, b.Dx(), b.Dy(), colours, 100*float64(inked)/float64(b.Dx()*b.Dy()), reds)
		if b.Dx() != 1200 || b.Dy() != 2300 {
			t.Errorf("%s: screenshot is %dx%d", name, b.Dx(), b.Dy())
		}
		if colours < 200 || inked < b.Dx()*b.Dy()/20 {
			t.Errorf("%s: the screenshot looks blank: %d colours, %d inked pixels", name, colours, inked)
		}
		red[name] = reds
		if *update {
			if err := os.WriteFile(filepath.Join("docs", "report-"+name+".png"), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}

		pdf := filepath.Join(dir, name+".pdf")
		chromium(t, bin, page, "--no-pdf-header-footer", "--print-to-pdf="+pdf)
		doc, err := os.ReadFile(pdf)
		if err != nil {
			t.Fatal(err)
		}
		pages := len(regexp.MustCompile(`/Type\s*/Page\b`).FindAll(doc, -1))
		if !bytes.HasPrefix(doc, []byte("%PDF-")) || pages < len(rep.Criteria)+1 {
			t.Errorf("%s: printed to %d pages, want at least one per criterion (%d) and the overview", name, pages, len(rep.Criteria))
		}
	}
	if red["weak"] < 5*red["baseline"] || red["weak"] == 0 {
		t.Errorf("error-red pixels: weak %d, baseline %d: the weak template's errors do not show", red["weak"], red["baseline"])
	}
}

// inspect counts an image's distinct colours, its pixels that are not near
// white, and those of the error colour (#b42318).
func inspect(img image.Image) (colours, inked, reds int) {
	seen := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			r, g, bl = r>>8, g>>8, bl>>8
			seen[r<<16|g<<8|bl] = true
			if r+g+bl < 3*235 {
				inked++
			}
			if absDiff(r, 0xb4) < 12 && absDiff(g, 0x23) < 12 && absDiff(bl, 0x18) < 12 {
				reds++
			}
		}
	}
	return len(seen), inked, reds
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}
