{
  "targets": [
    {
      "target_name": "qrobust",
      "sources": ["<!@(node scripts/gyp-sources.cjs sources)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native/include"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "QRB_VERSION=\"<!(node scripts/gyp-sources.cjs version)\"",
        "<!@(node scripts/gyp-sources.cjs defines)"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags": ["-ffp-contract=off", "<!@(node scripts/gyp-sources.cjs cflags)"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-ffp-contract=off", "-fopenmp", "<!@(node scripts/gyp-sources.cjs cflags)"],
      "ldflags": ["-fopenmp"],
      "libraries": ["<!@(node scripts/gyp-sources.cjs libs)", "-lpthread"],
      "conditions": [
        ["eco_native=='true'", { "cflags": ["-march=native"], "cflags_cc": ["-march=native"] }]
      ]
    }
  ],
  "variables": { "eco_native%": "false" }
}
