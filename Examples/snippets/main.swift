// The Swift code that README.md, docs/ and the DocC articles show, compiled with the package and never run: each file
// beside this one holds one snippet, and a test (DocumentationSnippetsTests) keeps each page's code block equal to
// its file with the lines between `// snippet.hide` and `// snippet.show` left out (SwiftPM's snippet markers).
