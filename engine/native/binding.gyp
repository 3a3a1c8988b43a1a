{
  "targets": [
    {
      "target_name": "tiller_native",
      "sources": [
        "src/addon.cc",
        "src/llama_library.cc",
        "src/model.cc",
        "src/context.cc",
        "src/background_thread.cc",
        "src/row_analysis.cc",
        "src/row_analysis_binding.cc",
        "src/training.cc",
        "src/training_graph.cc",
        "src/out_product_kernel.cc",
        "src/out_product_avx512.cc",
        "src/out_product_avx2.cc",
        "src/quantize.cc",
        "src/llama_loader.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "vendor-headers",
        "vendor-headers/include",
        "vendor-headers/ggml/include"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_CPP_EXCEPTIONS_ALL",
        "NODE_ADDON_API_DISABLE_DEPRECATED"
      ],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O2", "-fexceptions"],
      "libraries": [],
      "conditions": [
        ["OS=='linux'", { "libraries": ["-ldl"] }],
        ["OS=='mac'", {
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "MACOSX_DEPLOYMENT_TARGET": "11.0"
          }
        }],
        ["OS=='win'", {
          "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1, "AdditionalOptions": ["/std:c++17"] } },
          "libraries": ["-lpsapi"]
        }]
      ]
    }
  ]
}
