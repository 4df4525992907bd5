# AutoTokenizer parity: model folders (legacy files or tokenizer.json with tokenizer_config.json)
# loaded by Tokenizer::from_pretrained against transformers 4.57.3 goldens written by
# tools/reference/auto_tokenizer_goldens.py. Runs offline; `ctest -L parity`.
add_executable(auto_tokenizer_parity_tests ${CMAKE_CURRENT_LIST_DIR}/auto_tokenizer_parity_test.cc)
target_link_libraries(auto_tokenizer_parity_tests PRIVATE
  mlhub_tokenizers nlohmann_json::nlohmann_json ZLIB::ZLIB GTest::gtest GTest::gtest_main)
target_compile_definitions(auto_tokenizer_parity_tests PRIVATE
  MLHUB_SHARED_DIR="${MLHUB_SHARED_DIR}" MLHUB_SOURCE_DIR="${MLHUB_SOURCE_DIR}")
gtest_discover_tests(auto_tokenizer_parity_tests PROPERTIES LABELS parity TIMEOUT 900
                     DISCOVERY_TIMEOUT 60)
