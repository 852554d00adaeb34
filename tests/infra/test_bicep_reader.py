"""The Bicep reader the infra tests rely on reads what the Bicep grammar means."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra import bicep

SAMPLE = """
// a comment with 'quotes' and { braces
@description('URL like https://x/y // not a comment')
@allowed([
  'a'
  'b'
])
param choice string = 'a'

@minValue(1)
param count int = 7 /* trailing */

param flag bool = false
param derived string = tenant().tenantId

var settings = {
  PLAIN: choice
  COUNT: string(count)
  FLAG: flag ? 'true' : 'false'
  REF: '@Microsoft.KeyVault(SecretUri=${vault.outputs.uri}secrets/x-y/)'
  'quoted-key': 'it\\'s'
  NESTED: {
    inner: [
      1
      'two'
    ]
  }
  TERNARY: flag ? {
    a: 1
  } : {}
}

resource r 'Microsoft.Web/sites@2024-04-01' = {
  name: 'x'
  properties: {
    list: [for s in items(settings): {
      name: s.key
    }]
  }
}

output o string = 'done'
"""


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> bicep.BicepFile:
    path: Path = tmp_path_factory.mktemp("bicep") / "sample.bicep"
    path.write_text(SAMPLE, encoding="utf-8")
    return bicep.read(path)


def test_params_and_decorators(sample):
    choice = sample.params["choice"]
    assert choice.description == "URL like https://x/y // not a comment"
    assert choice.decorators["allowed"] == [bicep.Str("a"), bicep.Str("b")]
    assert choice.default == bicep.Str("a")
    assert sample.params["count"].default == 7
    assert sample.params["count"].decorators["minValue"] == 1
    assert sample.params["flag"].default is False
    assert sample.params["derived"].default == bicep.Expr("tenant().tenantId")


def test_object_values(sample):
    settings = sample.object_var("settings")
    assert list(settings) == ["PLAIN", "COUNT", "FLAG", "REF", "quoted-key", "NESTED", "TERNARY"]
    assert settings["PLAIN"] == bicep.Expr("choice")
    assert settings["REF"] == bicep.Str("@Microsoft.KeyVault(SecretUri=${vault.outputs.uri}secrets/x-y/)")
    assert settings["quoted-key"] == bicep.Str("it's")
    assert settings["NESTED"] == {"inner": [1, bicep.Str("two")]}
    assert isinstance(settings["TERNARY"], bicep.Expr)
    assert settings["TERNARY"].text.startswith("flag ? {")


def test_param_sources(sample):
    settings = sample.object_var("settings")
    assert bicep.param_source(settings["PLAIN"], sample) == (sample.params["choice"], "a")
    assert bicep.param_source(settings["COUNT"], sample) == (sample.params["count"], "7")
    assert bicep.param_source(settings["FLAG"], sample) == (sample.params["flag"], "false")
    assert bicep.param_source(settings["REF"], sample) is None


def test_duplicate_keys_are_errors(tmp_path):
    path = tmp_path / "dup.bicep"
    path.write_text("var x = {\n  A: 1\n  A: 2\n}\n", encoding="utf-8")
    with pytest.raises(bicep.BicepSyntaxError, match="duplicate key 'A'"):
        bicep.read(path)
