<?xml version="1.0" encoding="UTF-8"?>
<!--
  A readable page for a person who opens an Atom or RSS feed in a browser. Feed readers ignore
  the xml-stylesheet instruction and get the feed untouched. Every value is copied with
  xsl:value-of or an attribute value, which the processor escapes; disable-output-escaping is
  never used, and only http(s) URLs become links or images, so no record content can run script.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:atom="http://www.w3.org/2005/Atom"
    xmlns:media="http://search.yahoo.com/mrss/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    exclude-result-prefixes="atom media dc">
  <xsl:output method="html" encoding="UTF-8" doctype-system="about:legacy-compat" indent="no"/>

  <!-- The site root relative to this feed, read from our own relative xml-stylesheet href
       ("../../feed.xsl" → "../../"): the transform's output resolves URLs against the feed. -->
  <xsl:variable name="pi" select="/processing-instruction('xml-stylesheet')"/>
  <xsl:variable name="href" select="substring-before(substring-after($pi, 'href=&quot;'), 'feed.xsl&quot;')"/>
  <xsl:variable name="root">
    <xsl:if test="translate($href, './', '') = ''"><xsl:value-of select="$href"/></xsl:if>
  </xsl:variable>

  <xsl:template match="/">
    <xsl:variable name="feed" select="atom:feed | rss/channel"/>
    <html lang="en">
      <head>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title><xsl:value-of select="$feed/atom:title | $feed/title"/> (feed)</title>
        <link rel="stylesheet" href="{$root}style.css"/>
        <link rel="icon" href="{$root}favicon.svg" type="image/svg+xml"/>
      </head>
      <body>
        <header class="site">
          <p class="brand"><a href="{$root}index.html">All feeds</a></p>
          <h1><xsl:value-of select="$feed/atom:title | $feed/title"/></h1>
          <p class="lede"><xsl:value-of select="$feed/atom:subtitle | $feed/description"/></p>
          <xsl:variable name="self" select="$feed/atom:link[@rel='self']/@href"/>
          <div class="feed-note" role="note">
            <p><strong>This is a feed: copy the URL into your reader</strong> to follow it.</p>
            <p><code><xsl:value-of select="$self"/></code></p>
            <xsl:variable name="page" select="($feed/atom:link[@rel='alternate']/@href | $feed/link)[1]"/>
            <p class="meta">
              <xsl:call-template name="link">
                <xsl:with-param name="url" select="$page"/>
                <!-- Without feed pages (feed_pages: false) a feed names the site's index as
                     its web page: a URL its own self link starts with. -->
                <xsl:with-param name="text">
                  <xsl:choose>
                    <xsl:when test="starts-with($self, $page)">Browse all feeds</xsl:when>
                    <xsl:otherwise>Open this feed's web page</xsl:otherwise>
                  </xsl:choose>
                </xsl:with-param>
              </xsl:call-template>
              <xsl:if test="$feed/atom:link[@rel='prev-archive']">
                <xsl:text> · </xsl:text>
                <xsl:call-template name="link">
                  <xsl:with-param name="url" select="$feed/atom:link[@rel='prev-archive']/@href"/>
                  <xsl:with-param name="text">Older entries</xsl:with-param>
                </xsl:call-template>
              </xsl:if>
            </p>
          </div>
        </header>
        <main id="main">
          <ol class="entries">
            <xsl:apply-templates select="$feed/atom:entry | $feed/item"/>
          </ol>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="atom:entry | item">
    <xsl:variable name="title" select="atom:title | title"/>
    <xsl:variable name="image" select="media:thumbnail[1] | media:content[1]"/>
    <li>
      <article class="entry">
        <xsl:if test="$image and (starts-with($image[1]/@url, 'https://') or starts-with($image[1]/@url, 'http://'))">
          <img src="{$image[1]/@url}" alt="{$title}" loading="lazy" decoding="async">
            <xsl:if test="$image[1]/@width"><xsl:attribute name="width"><xsl:value-of select="$image[1]/@width"/></xsl:attribute></xsl:if>
            <xsl:if test="$image[1]/@height"><xsl:attribute name="height"><xsl:value-of select="$image[1]/@height"/></xsl:attribute></xsl:if>
          </img>
        </xsl:if>
        <div class="body">
          <h2>
            <xsl:call-template name="link">
              <xsl:with-param name="url" select="(atom:link[@rel='alternate']/@href | link)[1]"/>
              <xsl:with-param name="text" select="$title"/>
            </xsl:call-template>
          </h2>
          <p class="meta">
            <xsl:value-of select="atom:author/atom:name | dc:creator"/>
            <xsl:text> · </xsl:text>
            <time>
              <xsl:choose>
                <xsl:when test="atom:published">
                  <xsl:attribute name="datetime"><xsl:value-of select="atom:published"/></xsl:attribute>
                  <xsl:value-of select="substring(atom:published, 1, 10)"/>
                </xsl:when>
                <!-- RFC 822 "Wed, 12 Jun 2024 16:20:00 +0000": the day is what a reader needs. -->
                <xsl:otherwise><xsl:value-of select="substring(pubDate, 1, 16)"/></xsl:otherwise>
              </xsl:choose>
            </time>
          </p>
          <xsl:if test="atom:summary | description">
            <p class="excerpt"><xsl:value-of select="atom:summary | description"/></p>
          </xsl:if>
          <xsl:if test="atom:category | category">
            <ul class="topics" aria-label="Topics">
              <xsl:for-each select="atom:category/@term | category">
                <li><span class="topic"><xsl:value-of select="."/></span></li>
              </xsl:for-each>
            </ul>
          </xsl:if>
          <xsl:if test="atom:link[@rel='related']">
            <section class="related" aria-label="Related articles">
              <h3>Related articles</h3>
              <ul>
                <xsl:for-each select="atom:link[@rel='related']">
                  <li>
                    <xsl:call-template name="link">
                      <xsl:with-param name="url" select="@href"/>
                      <xsl:with-param name="text" select="@title"/>
                    </xsl:call-template>
                  </li>
                </xsl:for-each>
              </ul>
            </section>
          </xsl:if>
        </div>
      </article>
    </li>
  </xsl:template>

  <!-- A link only to an http(s) URL (never javascript: or data:); plain text otherwise. -->
  <xsl:template name="link">
    <xsl:param name="url"/>
    <xsl:param name="text"/>
    <xsl:choose>
      <xsl:when test="starts-with($url, 'https://') or starts-with($url, 'http://')">
        <a href="{$url}"><xsl:value-of select="$text"/></a>
      </xsl:when>
      <xsl:otherwise><xsl:value-of select="$text"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>
</xsl:stylesheet>
