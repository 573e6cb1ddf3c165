from pathlib import Path

from batikstudio import paths


def test_project_root_prefers_the_source_tree_then_the_installed_share_folder(tmp_path):
    site = tmp_path / "env" / "lib" / "site-packages"  # a regular install: no models/ beside the package
    site.mkdir(parents=True)
    shared = tmp_path / "env" / "share" / "batikstudio"
    (shared / "models").mkdir(parents=True)
    assert paths._project_root(site, (str(tmp_path / "env"),)) == shared
    assert paths._project_root(site, (str(tmp_path / "elsewhere"),)) == site  # nothing installed: unchanged
    checkout = tmp_path / "repo"
    (checkout / "models").mkdir(parents=True)
    assert paths._project_root(checkout, (str(tmp_path / "env"),)) == checkout


def test_this_checkout_finds_its_bundled_models():
    assert paths.BUNDLED_MODELS == paths.PROJECT_ROOT / "models"
    assert (paths.BUNDLED_MODELS / "default.txt").is_file()
    assert Path(paths.PROJECT_ROOT, "resources", "icons").is_dir()
